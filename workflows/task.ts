import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ArtifactRef } from '../contracts/artifacts';
import type { PlannedTask } from '../contracts/plan';
import { agentActivity, readModelActivity } from './activity-options';
import { failureMessage } from './failures';

const { runAgent } = proxyActivities<Activities>(agentActivity);
const { recordTask } = proxyLocalActivities<Activities>(readModelActivity);

export interface TaskWorkflowInput {
  intentId: string;
  intentText: string;
  projectName: string;
  task: PlannedTask;
  dependencies: ArtifactRef[];
}

/** One task of an intent's plan: runs the agent for its type and returns a reference to what it produced. */
export async function taskWorkflow(input: TaskWorkflowInput): Promise<ArtifactRef> {
  const { intentId, task } = input;
  setCurrentDetails(`**${task.type}** task \`${task.id}\`: running the agent`);
  await recordTask({ intentId, taskId: task.id, seq: 1, state: 'RUNNING' });
  try {
    const artifact = await runAgent.executeWithOptions(
      { ...agentActivity, summary: `${task.type} agent: ${task.id}` },
      [
        {
          intentId,
          intentText: input.intentText,
          projectName: input.projectName,
          task,
          dependencies: input.dependencies,
        },
      ],
    );
    await recordTask({
      intentId,
      taskId: task.id,
      seq: 2,
      state: 'COMPLETED',
      artifact: { manifestKey: artifact.manifestKey, fileCount: artifact.fileCount },
    });
    setCurrentDetails(`**${task.type}** task \`${task.id}\`: produced ${artifact.fileCount} file(s)`);
    return artifact;
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() =>
        recordTask({ intentId, taskId: task.id, seq: 2, state: 'CANCELLED' }),
      );
      throw error;
    }
    const reason = failureMessage(error);
    await recordTask({ intentId, taskId: task.id, seq: 2, state: 'FAILED', error: reason });
    throw ApplicationFailure.nonRetryable(`task ${task.id} failed: ${reason}`, 'TaskFailed');
  }
}
