import { ArtifactError, mergeTaskOutputs, planKey, type PathConflict } from '../../adapters/storage/artifacts';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { ArtifactRef } from '../../contracts/artifacts';
import type { Plan } from '../../contracts/plan';
import type { RequirementFramework } from '../../contracts/requirements';
import { projectFromFiles, type Project } from '../../validation/project';

/** Loads the generated project from S3 by reference; an unsafe path is a permanent failure, not a retry. */
export async function loadProject(store: ObjectStore, artifacts: ArtifactRef[]): Promise<Project> {
  // The merged task outputs, with their clashes: the review reports them naming both tasks.
  const { files, conflicts } = await mergeTaskOutputs(store, artifacts);
  return toProject(files, conflicts);
}

/** Files already loaded, as a project; an unsafe path is a permanent failure. */
export function toProject(
  files: { path: string; content: Buffer | string }[],
  pathConflicts: PathConflict[] = [],
): Project {
  try {
    return projectFromFiles(files, { pathConflicts });
  } catch (error) {
    throw new ArtifactError(error instanceof Error ? error.message : String(error), 'UnsafeOutputPath');
  }
}

export interface ValidationInput {
  intentId: string;
  artifacts: ArtifactRef[];
}

/** The intent's plan as planning stored it; undefined when there is none (plans from injected planners). */
export async function loadPlan(store: ObjectStore, intentId: string): Promise<Plan | undefined> {
  const key = planKey(intentId);
  if (!(await store.stat(key))) return undefined;
  return store.getJson<Plan>(key);
}

/** The frameworks the intent claims: its plan's requirements that name one. */
export function claimedFrameworks(plan: Plan | undefined): RequirementFramework[] {
  return [...new Set((plan?.requirements ?? []).flatMap((r) => (r.framework ? [r.framework] : [])))];
}
