import { ApplicationFailure } from '@temporalio/activity';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { ArtifactRef } from '../../contracts/artifacts';
import { projectFromFiles, type Project } from '../../validation/project';
import { intentPrefix, loadFiles } from '../artifacts';

/** Loads the generated project from S3 by reference; an unsafe path is a permanent failure, not a retry. */
export async function loadProject(store: ObjectStore, artifacts: ArtifactRef[]): Promise<Project> {
  const files = await loadFiles(store, artifacts);
  try {
    return projectFromFiles(files);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(error instanceof Error ? error.message : String(error), 'UnsafeOutputPath');
  }
}

/** Where each report lives, next to the intent's other artifacts. */
export const reportKeys = (intentId: string) => {
  const base = `${intentPrefix(intentId)}/reports`;
  return {
    typecheck: `${base}/validation.json`,
    static: `${base}/static-review.json`,
    compliance: `${base}/compliance.json`,
    dynamic: `${base}/dynamic.json`,
    validation: `${base}/validation-report.json`,
    sarif: `${base}/validation.sarif`,
  };
};

export interface ValidationInput {
  intentId: string;
  artifacts: ArtifactRef[];
}
