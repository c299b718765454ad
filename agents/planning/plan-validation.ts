import { DEFAULT_MAX_PLAN_TASKS } from '../../contracts/plan';
import { unsafePathReason } from '../../adapters/storage/artifacts';

/** Task ids end up in workflow ids and S3 keys: short, lowercase, dash-separated. */
export const TASK_ID = /^[a-z][a-z0-9-]{0,39}$/;

export interface TaskShape {
  id: string;
  dependencies: string[];
  /** Paths the task is planned to write (LLM plans); two tasks may not plan the same file. */
  outputs?: string[];
}

/**
 * Everything wrong with a task graph, as sentences a person (or the LLM's repair round) can act on:
 * empty, too many tasks, bad or duplicate ids, self-dependencies, unknown dependencies, cycles,
 * unsafe or contested output paths. Empty when the plan is sound.
 */
export function planProblems(tasks: TaskShape[], maxTasks = DEFAULT_MAX_PLAN_TASKS): string[] {
  const problems: string[] = [];
  if (tasks.length === 0) return ['the plan has no tasks: plan at least one task'];
  if (tasks.length > maxTasks) problems.push(`the plan has ${tasks.length} tasks; at most ${maxTasks} are allowed`);

  const counts = new Map<string, number>();
  for (const task of tasks) counts.set(task.id, (counts.get(task.id) ?? 0) + 1);
  for (const [id, count] of counts) {
    if (!TASK_ID.test(id))
      problems.push(`task id ${JSON.stringify(id)} must be lowercase letters, digits and dashes (max 40)`);
    if (count > 1) problems.push(`task id ${JSON.stringify(id)} is used by ${count} tasks; ids must be unique`);
  }

  let unknown = false;
  for (const task of tasks) {
    for (const dep of task.dependencies) {
      if (dep === task.id) problems.push(`task ${JSON.stringify(task.id)} depends on itself`);
      else if (!counts.has(dep)) {
        unknown = true;
        problems.push(`task ${JSON.stringify(task.id)} depends on unknown task ${JSON.stringify(dep)}`);
      }
    }
  }
  if (!unknown) {
    const cycle = findCycle(tasks);
    if (cycle) problems.push(`dependency cycle: ${cycle.join(' → ')}`);
  }

  const owners = new Map<string, string>();
  for (const task of tasks) {
    for (const path of task.outputs ?? []) {
      const reason = unsafePathReason(path);
      if (reason)
        problems.push(`task ${JSON.stringify(task.id)} plans unsafe output path ${JSON.stringify(path)}: ${reason}`);
      const owner = owners.get(path);
      if (owner && owner !== task.id)
        problems.push(`tasks ${JSON.stringify(owner)} and ${JSON.stringify(task.id)} both plan ${path}`);
      owners.set(path, task.id);
    }
  }
  return problems;
}

/** The first dependency cycle found (ignoring self-loops, reported separately), as a closed path of ids. */
export function findCycle(tasks: TaskShape[]): string[] | undefined {
  const deps = new Map(tasks.map((task) => [task.id, task.dependencies.filter((dep) => dep !== task.id)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of deps.get(id) ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const task of tasks) {
    const cycle = visit(task.id);
    if (cycle) return cycle;
  }
  return undefined;
}
