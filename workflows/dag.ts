import type { PlannedTask } from '../contracts/plan';

/**
 * Runs a task graph: each task starts once all its dependencies have completed, at most
 * `maxConcurrency` at a time, highest priority first (then plan order). Deterministic:
 * the order depends only on the plan and on the order completions arrive in history.
 * A failing task rejects the whole run (fail-fast); tasks already running are left to
 * the caller's cancellation scope.
 */
export async function runDag<R>(
  tasks: PlannedTask[],
  start: (task: PlannedTask, results: ReadonlyMap<string, R>) => Promise<R>,
  maxConcurrency: number,
): Promise<Map<string, R>> {
  const results = new Map<string, R>();
  const running = new Map<string, Promise<void>>();
  const pending = [...tasks];

  while (results.size < tasks.length) {
    const ready = pending
      .filter((task) => task.dependencies.every((dep) => results.has(dep)))
      .sort((a, b) => b.priority - a.priority);
    for (const task of ready.slice(0, Math.max(0, maxConcurrency - running.size))) {
      pending.splice(pending.indexOf(task), 1);
      running.set(
        task.id,
        start(task, results).then((result) => {
          results.set(task.id, result);
          running.delete(task.id);
        }),
      );
    }
    if (running.size === 0) {
      throw new Error(`tasks ${pending.map((t) => t.id).join(', ')} can never start: unmet dependencies`);
    }
    await Promise.race(running.values());
  }
  return results;
}
