import { reportKeys } from '../../adapters/storage/artifacts';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { StaticReviewSummary } from '../../contracts/validation';
import { countBySeverity } from '../../validation/findings';
import { runStaticReview, type StaticReviewOptions } from '../../validation/static';
import { withHeartbeat } from './heartbeat';
import { loadProject, type ValidationInput } from './load-project';

export type StaticReviewInput = ValidationInput;

/** Layer 1: runs every static check, stores the full report in S3, returns counts and statuses. */
export async function staticReview(
  store: ObjectStore,
  options: Omit<StaticReviewOptions, 'onProgress'>,
  input: StaticReviewInput,
): Promise<StaticReviewSummary> {
  return withHeartbeat(async (setPhase) => {
    setPhase('loading project');
    const project = await loadProject(store, input.artifacts);
    const report = await runStaticReview(project, { intentId: input.intentId }, { ...options, onProgress: setPhase });
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
