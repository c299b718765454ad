import { isCancellation, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ArtifactRef } from '../contracts/artifacts';
import type { LayerFailure, ValidationSummary } from '../contracts/validation';
import { validationTaskQueue } from '../contracts/workflow';
import {
  complianceActivity,
  dynamicValidationActivity,
  scoringActivity,
  staticReviewActivity,
  typecheckActivity,
} from './activity-options';
import { failureMessage } from './failures';
import type { IntentContext } from './intent-context';

const { validateProject } = proxyActivities<Activities>(typecheckActivity);
const { staticReview } = proxyActivities<Activities>(staticReviewActivity);
const { complianceReview } = proxyActivities<Activities>(complianceActivity);
const { scoreValidation } = proxyActivities<Activities>(scoringActivity);
const { dynamicValidation } = proxyActivities<Activities>(dynamicValidationActivity);

/** A layer that cannot run is "not assessed", never a pass; a cancellation still stops everything. */
function notAssessed(error: unknown): LayerFailure {
  if (isCancellation(error)) throw error;
  return { status: 'not_assessed', reason: failureMessage(error) };
}

/**
 * Type-check, then (for intents started since the layers existed) static review, compliance and the
 * sandboxed build and tests side by side, and the scores.
 */
export async function validate(
  { input, progress, spend }: IntentContext,
  artifacts: ArtifactRef[],
): Promise<ValidationSummary> {
  const refs = { intentId: input.intentId, artifacts };
  // Validation runs on the validation workers' queue, so CPU-heavy checks never delay workflow tasks.
  const queue = patched('validation-queue') ? { taskQueue: validationTaskQueue(workflowInfo().taskQueue) } : {};
  const typecheck = validateProject.executeWithOptions(
    { ...typecheckActivity, ...queue, summary: 'Type-check the generated project' },
    [refs],
  );
  if (!patched('validation-layers')) return typecheck;
  // Intents started before layer 2 existed replay without it.
  const dynamic = patched('dynamic-validation')
    ? dynamicValidation
        .executeWithOptions(
          { ...dynamicValidationActivity, ...queue, summary: 'Layer 2: build and tests in the sandbox' },
          [refs],
        )
        .catch(notAssessed)
    : undefined;
  const [summary, staticSummary, compliance, dynamicSummary] = await Promise.all([
    typecheck,
    staticReview
      // The intent's budget: layer 1's LLM review is charged to it.
      .executeWithOptions({ ...staticReviewActivity, ...queue, summary: 'Layer 1: static review' }, [
        { ...refs, budget: input.policy.budget },
      ])
      .catch(notAssessed),
    complianceReview
      .executeWithOptions({ ...complianceActivity, ...queue, summary: 'Layer 3: compliance' }, [
        { ...refs, frameworks: input.policy.validation?.frameworks },
      ])
      .catch(notAssessed),
    dynamic,
  ]);
  // Layer 1's LLM review spent the intent's budget too (absent offline and in intents validated before it).
  if (staticSummary.status === 'assessed' && staticSummary.llmUsage) spend.record(staticSummary.llmUsage);
  const score = await scoreValidation.executeWithOptions(
    { ...scoringActivity, ...queue, summary: 'Scores, report and SARIF' },
    [
      {
        intentId: input.intentId,
        static: staticSummary,
        compliance,
        ...(dynamicSummary && { dynamic: dynamicSummary }),
        thresholds: input.policy.validation?.thresholds,
        artifacts,
      },
    ],
  );
  progress.publishScores(score);
  return { ...summary, static: staticSummary, compliance, ...(dynamicSummary && { dynamic: dynamicSummary }), score };
}
