import { proxyActivities, uuid4, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ArtifactRef, CapsuleRef } from '../contracts/artifacts';
import type { DecisionRecord } from '../contracts/decision';
import type { Plan } from '../contracts/plan';
import type { ValidationSummary } from '../contracts/validation';
import { ioActivity } from './activity-options';
import type { IntentContext } from './intent-context';

const { packageCapsule } = proxyActivities<Activities>(ioActivity);

/** Builds the approved project's capsule and uploads it; the history keeps its reference only. */
export async function packageApproved(
  { input }: IntentContext,
  approved: { plan: Plan; artifacts: ArtifactRef[]; validation: ValidationSummary; approval: DecisionRecord },
): Promise<CapsuleRef> {
  const { workflowId, runId } = workflowInfo();
  return packageCapsule.executeWithOptions({ ...ioActivity, summary: 'Build the capsule and upload it' }, [
    {
      capsuleId: uuid4(),
      intentId: input.intentId,
      intentText: input.text,
      version: 1,
      ...approved,
      workflow: { workflowId, runId },
    },
  ]);
}
