import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
} from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import type { Activities } from '../activities';
import type { ArtifactRef } from '../contracts/artifacts';
import type { TaskInput } from '../contracts/workflow';
import { readModelActivity, taskActivity } from './activity-options';
import { failureMessage } from './failures';
import { projectionRun } from './projection-run';

const { recordTask } = proxyLocalActivities<Activities>(readModelActivity);

/** One task of an intent's plan: runs the agent for its type and returns a reference to what it produced. */
export async function taskWorkflow(input: TaskInput): Promise<ArtifactRef> {
  const { intentId, task } = input;
  const options = taskActivity[task.type];
  const { runAgent } = proxyActivities<Activities>(options);
  setCurrentDetails(`**${task.type}** task \`${task.id}\`: running the agent`);
  await recordTask({ intentId, taskId: task.id, seq: 1, run: projectionRun(), state: 'RUNNING' });
  try {
    const artifact = await runAgent.executeWithOptions({ ...options, summary: `${task.type} agent: ${task.id}` }, [
      input,
    ]);
    await recordTask({
      intentId,
      taskId: task.id,
      seq: 2,
      run: projectionRun(),
      state: 'COMPLETED',
      attempt: artifact.run.attempt,
      artifact: { manifestKey: artifact.manifestKey, fileCount: artifact.fileCount },
    });
    setCurrentDetails(`**${task.type}** task \`${task.id}\`: produced ${artifact.fileCount} file(s)`);
    return artifact;
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() =>
        recordTask({ intentId, taskId: task.id, seq: 2, run: projectionRun(), state: 'CANCELLED' }),
      );
      throw error;
    }
    const attempts =
      error instanceof ActivityFailure && error.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED
        ? options.retry?.maximumAttempts
        : undefined;
    const reason = `${failureMessage(error)}${attempts ? ` (after ${attempts} attempts)` : ''}`;
    await recordTask({
      intentId,
      taskId: task.id,
      seq: 2,
      run: projectionRun(),
      state: 'FAILED',
      error: reason,
      attempt: attempts,
    });
    throw ApplicationFailure.nonRetryable(reason, 'TaskFailed');
  }
}
