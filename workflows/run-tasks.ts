import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  executeChild,
  isCancellation,
  workflowInfo,
} from '@temporalio/workflow';
import type { ArtifactRef } from '../contracts/artifacts';
import type { TaskRevision } from '../contracts/workflow';
import type { Plan, PlannedTask } from '../contracts/plan';
import { runDag } from './dag';
import { failureMessage } from './failures';
import type { IntentContext } from './intent-context';
import { taskWorkflow } from './task';

/** Runs the plan's tasks as child workflows (a DAG); fails the intent by its failure policy if any task fails. */
export async function runTasks(ctx: IntentContext, plan: Plan): Promise<ArtifactRef[]> {
  const { policy } = ctx.input;
  const tasksScope = new CancellationScope();
  const outcome = await runDag<ArtifactRef>(plan.tasks, (task, done) => runTask(ctx, plan, task, done), {
    maxConcurrency: policy.maxConcurrency,
    failurePolicy: policy.failurePolicy,
    isCancellation,
    scope: { run: (fn) => tasksScope.run(fn), cancel: () => tasksScope.cancel() },
  });
  const failed = [...outcome.failed].map(([id, error]) => `${id}: ${failureMessage(error)}`);
  if (failed.length === 0) return plan.tasks.map((task) => outcome.results.get(task.id)!);

  const { progress } = ctx;
  const notStarted = progress.state.tasks.filter((t) => t.state === 'PENDING');
  for (const task of notStarted) {
    await progress.endUnstartedTask(task.id, outcome.skipped.includes(task.id) ? 'SKIPPED' : 'CANCELLED');
  }
  if (policy.failurePolicy === 'fail-fast') {
    const cancelled = outcome.cancelled.length + notStarted.length;
    throw ApplicationFailure.nonRetryable(
      `task ${failed[0]}${cancelled ? `; ${cancelled} other task(s) cancelled (fail-fast)` : ''}`,
      'TaskFailed',
    );
  }
  throw ApplicationFailure.nonRetryable(
    `partial failure: ${failed.length} of ${plan.tasks.length} tasks failed (${failed.join('; ')})` +
      (outcome.skipped.length ? `; skipped because they depend on a failed task: ${outcome.skipped.join(', ')}` : ''),
    'PartialFailure',
  );
}

/**
 * One task as a child workflow, so ops see it (and can retry it) on its own in the Web UI. A revision
 * (changes requested, a repair round) is a new child, `…/task-<id>-<label>`, beside the first.
 */
export async function runTask(
  { input, progress, spend }: IntentContext,
  plan: Plan,
  task: PlannedTask,
  done: ReadonlyMap<string, ArtifactRef>,
  revision?: TaskRevision,
): Promise<ArtifactRef> {
  spend.assertWithinBudget();
  progress.setTask(task.id, { state: 'RUNNING' });
  try {
    const artifact = await executeChild(taskWorkflow, {
      workflowId: `${workflowInfo().workflowId}/task-${task.id}${revision ? `-${revision.label}` : ''}`,
      staticSummary: `${task.type}${revision ? ` (${revision.label})` : ''}: ${task.description}`,
      staticDetails: task.dependencies.length ? `after ${task.dependencies.join(', ')}` : 'no dependencies',
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      args: [
        {
          intentId: input.intentId,
          intentText: input.text,
          projectName: plan.projectName,
          task,
          dependencies: task.dependencies.map((dep) => done.get(dep)!),
          budget: input.policy.budget,
          ...(revision && { revision }),
        },
      ],
    });
    spend.record(artifact.usage);
    const { attempt, startedAt, finishedAt } = artifact.run ?? {};
    progress.setTask(task.id, { state: 'COMPLETED', attempts: attempt, startedAt, finishedAt });
    return artifact;
  } catch (error) {
    progress.setTask(task.id, { state: isCancellation(error) ? 'CANCELLED' : 'FAILED', error: failureMessage(error) });
    throw error;
  }
}
