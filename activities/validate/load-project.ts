import { ArtifactError, loadFiles } from '../../adapters/storage/artifacts';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { ArtifactRef } from '../../contracts/artifacts';
import { projectFromFiles, type Project } from '../../validation/project';

/** Loads the generated project from S3 by reference; an unsafe path is a permanent failure, not a retry. */
export async function loadProject(store: ObjectStore, artifacts: ArtifactRef[]): Promise<Project> {
  const files = await loadFiles(store, artifacts);
  try {
    return projectFromFiles(files);
  } catch (error) {
    throw new ArtifactError(error instanceof Error ? error.message : String(error), 'UnsafeOutputPath');
  }
}

export interface ValidationInput {
  intentId: string;
  artifacts: ArtifactRef[];
}
