import { proxyActivities, uuid4, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ArtifactRef, CapsuleRef } from '../contracts/artifacts';
import type { DecisionRecord, PastGate } from '../contracts/decision';
import type { Plan } from '../contracts/plan';
import type { ValidationSummary } from '../contracts/validation';
import { ioActivity } from './activity-options';
import type { IntentContext } from './intent-context';

const { packageCapsule } = proxyActivities<Activities>(ioActivity);

/** Builds the approved project's capsule and uploads it; the history keeps its reference only. */
export async function packageApproved(
  { input }: IntentContext,
  approved: {
    plan: Plan;
    artifacts: ArtifactRef[];
    validation: ValidationSummary;
    approval: DecisionRecord;
    /** The version approved, and the gates decided before it (plan gate, earlier versions). */
    version: number;
    history?: PastGate[];
  },
): Promise<CapsuleRef> {
  const { workflowId, runId, startTime } = workflowInfo();
  return packageCapsule.executeWithOptions({ ...ioActivity, summary: 'Build the capsule and upload it' }, [
    {
      capsuleId: uuid4(),
      intentId: input.intentId,
      intentText: input.text,
      ...approved,
      ...(approved.validation.repairRounds && { repairRounds: approved.validation.repairRounds }),
      workflow: { workflowId, runId },
      // Workflow time, as recorded: a retried build gives the same bytes.
      // eslint-disable-next-line no-restricted-syntax -- the replay-stable workflow clock is the point
      createdAt: new Date().toISOString(),
      startedAt: startTime.toISOString(),
      tenant: input.tenant,
      tags: input.tags ?? [],
      ...(input.policy.approval && {
        approvalPolicy: {
          required: input.policy.approval.required,
          allowSelfApproval: input.policy.approval.allowSelfApproval,
        },
      }),
      ...(input.submittedBy && { submittedBy: input.submittedBy.subject }),
    },
  ]);
}
