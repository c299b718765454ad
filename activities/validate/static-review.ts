import { reportKeys } from '../../adapters/storage/artifacts';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { StaticReviewSummary } from '../../contracts/validation';
import { countBySeverity } from '../../validation/findings';
import { withLlmReview } from '../../validation/static';
import type { LlmReviewer } from '../../validation/static/llm-review';
import type { ProjectAnalysis } from './analysis';
import { withHeartbeat } from '../heartbeat';
import { loadProject, type ValidationInput } from './load-project';

export type StaticReviewInput = ValidationInput;

/** Layer 1: runs every static check, stores the full report in S3, returns counts and statuses. */
export async function staticReview(
  store: ObjectStore,
  analysis: ProjectAnalysis,
  llmReviewer: LlmReviewer | undefined,
  input: StaticReviewInput,
): Promise<StaticReviewSummary> {
  return withHeartbeat(async (setPhase) => {
    setPhase('loading project');
    const project = await loadProject(store, input.artifacts);
    setPhase('code checks');
    const checked = await analysis.codeReview(project, input.intentId);
    setPhase('llm review');
    const report = llmReviewer ? await withLlmReview(checked, project, llmReviewer) : checked;
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
    };
  });
}
