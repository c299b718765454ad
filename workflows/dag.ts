import type { PlannedTask } from '../contracts/plan';

import type { FailurePolicy } from '../contracts/intent';

export type { FailurePolicy };

/** Where the scheduler runs its tasks, so fail-fast can cancel the ones still running. */
export interface TaskScope {
  run<T>(fn: () => Promise<T>): Promise<T>;
  cancel(): void;
}

export interface DagOptions {
  maxConcurrency: number;
  failurePolicy: FailurePolicy;
  /** Tells a cancellation apart from a failure (Temporal's isCancellation in workflows). */
  isCancellation: (error: unknown) => boolean;
  scope: TaskScope;
  /** Called once per task that will never run because a dependency failed (continue policy). */
  onSkipped?: (task: PlannedTask) => void;
}

export interface DagOutcome<R> {
  results: Map<string, R>;
  failed: Map<string, unknown>;
  /** Tasks stopped by fail-fast after a sibling failed. */
  cancelled: string[];
  /** Tasks never started because something they depend on failed or was skipped. */
  skipped: string[];
}

/**
 * Runs a task graph: each task starts once all its dependencies have completed, at most
 * `maxConcurrency` at a time, highest priority first (then plan order). Deterministic: the
 * order depends only on the plan and on the order completions arrive in history.
 *
 * fail-fast: the first failure cancels the running tasks and starts nothing more.
 * continue: everything that does not depend on a failed task still runs.
 * A cancellation from outside (the whole intent cancelled) is rethrown once running tasks settle.
 */
export async function runDag<R>(
  tasks: PlannedTask[],
  start: (task: PlannedTask, results: ReadonlyMap<string, R>) => Promise<R>,
  options: DagOptions,
): Promise<DagOutcome<R>> {
  const outcome: DagOutcome<R> = { results: new Map(), failed: new Map(), cancelled: [], skipped: [] };
  const running = new Map<string, Promise<void>>();
  const pending = [...tasks];
  let stopping = false; // fail-fast has cancelled the rest
  let cancelledFromOutside: unknown;

  const blocked = (task: PlannedTask) =>
    task.dependencies.some((dep) => outcome.failed.has(dep) || outcome.skipped.includes(dep));

  for (;;) {
    if (!stopping && cancelledFromOutside === undefined) {
      skipBlocked();
      const ready = pending
        .filter((task) => task.dependencies.every((dep) => outcome.results.has(dep)))
        .sort((a, b) => b.priority - a.priority);
      for (const task of ready.slice(0, Math.max(0, options.maxConcurrency - running.size))) {
        pending.splice(pending.indexOf(task), 1);
        running.set(task.id, settle(task));
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }

  if (cancelledFromOutside !== undefined) throw cancelledFromOutside;
  if (!stopping && outcome.failed.size === 0 && pending.length > 0) {
    throw new Error(`tasks ${pending.map((t) => t.id).join(', ')} can never start: unmet dependencies`);
  }
  return outcome;

  function skipBlocked() {
    // Repeat until stable: skipping a task can block the tasks that depend on it.
    for (let changed = true; changed;) {
      changed = false;
      for (const task of pending.filter(blocked)) {
        pending.splice(pending.indexOf(task), 1);
        outcome.skipped.push(task.id);
        options.onSkipped?.(task);
        changed = true;
      }
    }
  }

  async function settle(task: PlannedTask): Promise<void> {
    try {
      outcome.results.set(task.id, await options.scope.run(() => start(task, outcome.results)));
    } catch (error) {
      if (options.isCancellation(error) && stopping) {
        outcome.cancelled.push(task.id);
      } else if (options.isCancellation(error)) {
        cancelledFromOutside ??= error;
      } else {
        outcome.failed.set(task.id, error);
        if (options.failurePolicy === 'fail-fast' && !stopping) {
          stopping = true;
          options.scope.cancel();
        }
      }
    } finally {
      running.delete(task.id);
    }
  }
}
