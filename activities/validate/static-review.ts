import { reportKeys } from '../../adapters/storage/artifacts';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { Budget } from '../../contracts/budget';
import type { LlmUsage } from '../../contracts/usage';
import type { StaticReviewSummary } from '../../contracts/validation';
import { countBySeverity } from '../../validation/findings';
import { withLlmReview } from '../../validation/static';
import type { LlmReviewer } from '../../validation/static/llm-review';
import type { ProjectAnalysis } from './analysis';
import { withHeartbeat } from '../heartbeat';
import { whileHeartbeating } from '../llm-failures';
import { loadProject, type ValidationInput } from './load-project';

/** `budget`: the intent's, which the LLM review is charged to (the worker's default when absent). */
export type StaticReviewInput = ValidationInput & { budget?: Budget };

/** The LLM reviewer for one intent's review (adapters/llm/reviewer.ts), with what its calls used; absent offline. */
export type LlmReviewers = (scope: {
  intentId: string;
  budget?: Budget;
  signal?: AbortSignal;
}) => LlmReviewer & { readonly usage: LlmUsage };

/** Layer 1: runs every static check, stores the full report in S3, returns counts and statuses. */
export async function staticReview(
  store: ObjectStore,
  analysis: ProjectAnalysis,
  llmReviewers: LlmReviewers | undefined,
  input: StaticReviewInput,
): Promise<StaticReviewSummary> {
  return withHeartbeat(async (setPhase) => {
    setPhase('loading project');
    const project = await loadProject(store, input.artifacts);
    setPhase('code checks');
    const checked = await analysis.codeReview(project, input.intentId);
    setPhase('llm review');
    let llmUsage: LlmUsage | undefined;
    const report = llmReviewers
      ? await whileHeartbeating(async (signal) => {
          const reviewer = llmReviewers({ intentId: input.intentId, budget: input.budget, signal });
          const reviewed = await withLlmReview(checked, project, reviewer);
          llmUsage = reviewer.usage;
          return reviewed;
        })
      : checked;
    const reportKey = reportKeys(input.intentId).static;
    setPhase('storing report');
    await store.putJson(reportKey, report);
    return {
      status: 'assessed',
      reportKey,
      filesReviewed: report.filesReviewed,
      counts: countBySeverity(report.findings),
      checks: report.checks.map(({ tool, status, reason, findingCount }) => ({
        tool,
        status,
        ...(reason && { reason }),
        findingCount,
      })),
      ...(llmUsage?.calls && { llmUsage }),
    };
  });
}
