import { heartbeat } from '@temporalio/activity';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { ArtifactRef } from '../../contracts/artifacts';
import type { PlannedTask } from '../../contracts/plan';
import { loadFiles, storeTaskFiles } from '../artifacts';
import { generateSkeletonFiles } from './skeleton';

export interface RunAgentInput {
  intentId: string;
  intentText: string;
  projectName: string;
  task: PlannedTask;
  /** Outputs of the task's dependencies, by reference. */
  dependencies: ArtifactRef[];
}

export function createAgentActivities(store: ObjectStore) {
  return {
    /** Runs the agent for one task and stores what it produced in S3; returns a reference. */
    async runAgent(input: RunAgentInput): Promise<ArtifactRef> {
      const dependencyFiles = (await loadFiles(store, input.dependencies)).map((file) => ({
        path: file.path,
        content: file.content.toString('utf8'),
      }));
      heartbeat({ phase: 'generating' });
      const files = generateSkeletonFiles({
        intentText: input.intentText,
        projectName: input.projectName,
        task: input.task,
        dependencyFiles,
      });
      return storeTaskFiles(store, input.intentId, input.task.id, files);
    },
  };
}
