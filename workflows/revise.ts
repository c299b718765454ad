import type { ArtifactRef } from '../contracts/artifacts';
import type { ChangeRequest } from '../contracts/decision';
import type { Plan, PlannedTask } from '../contracts/plan';
import type { TaskRevision } from '../contracts/workflow';
import type { IntentContext } from './intent-context';
import { runTask } from './run-tasks';

export interface Revision {
  /** `v2`, `r1`, `v2-r1`: the new children's id suffix and the storage prefix of their output. */
  label: string;
  kind: TaskRevision['kind'];
  /** The tasks asked to change; what depends on them re-runs too, with the new output. */
  taskIds: ReadonlySet<string>;
  feedbackFor(task: PlannedTask): string;
}

/**
 * Re-runs the affected tasks as new child workflows, in dependency order, each given its previous
 * output and the feedback; returns the whole artifact set with the revised outputs in place.
 */
export async function reviseTasks(
  ctx: IntentContext,
  plan: Plan,
  artifacts: ArtifactRef[],
  revision: Revision,
): Promise<ArtifactRef[]> {
  const current = new Map(artifacts.map((artifact) => [artifact.taskId, artifact]));
  const affected = withDependants(plan, revision.taskIds);
  for (const task of dependencyOrder(plan)) {
    const previous = current.get(task.id);
    // Files reused from an earlier capsule belong to its tasks, not this plan's: nothing to re-run from.
    if (!affected.has(task.id) || !previous) continue;
    const { label, kind } = revision;
    current.set(
      task.id,
      await runTask(ctx, plan, task, current, { label, kind, feedback: revision.feedbackFor(task), previous }),
    );
  }
  return artifacts.map((artifact) => current.get(artifact.taskId)!);
}

/** The tasks named and every task that (transitively) depends on one of them. */
function withDependants(plan: Plan, named: ReadonlySet<string>): Set<string> {
  const affected = new Set(named);
  for (let grew = true; grew;) {
    grew = false;
    for (const task of plan.tasks) {
      if (!affected.has(task.id) && task.dependencies.some((dep) => affected.has(dep))) {
        affected.add(task.id);
        grew = true;
      }
    }
  }
  return affected;
}

/** The plan's tasks, each after its dependencies (plans are validated acyclic). */
function dependencyOrder(plan: Plan): PlannedTask[] {
  const ordered: PlannedTask[] = [];
  const placed = new Set<string>();
  while (ordered.length < plan.tasks.length) {
    const ready = plan.tasks.filter((t) => !placed.has(t.id) && t.dependencies.every((d) => placed.has(d)));
    if (ready.length === 0) break;
    for (const task of ready) {
      placed.add(task.id);
      ordered.push(task);
    }
  }
  return ordered;
}

/** request_changes: the tasks named, or every task when a comment names none (a file or the whole). */
export function changedTasks(plan: Plan, changes: ChangeRequest[] | undefined): Set<string> {
  const named = (changes ?? []).map((c) => c.task);
  if (named.length === 0 || named.some((task) => task === undefined)) return new Set(plan.tasks.map((t) => t.id));
  return new Set(named as string[]);
}

/** A reviewer's comments for one task: the overall reason, then the comments for it, its files or everything. */
export function changesFeedback(
  reason: string | undefined,
  changes: ChangeRequest[] | undefined,
  task: PlannedTask,
): string {
  const lines = reason ? [reason] : [];
  for (const change of changes ?? []) {
    if (change.task && change.task !== task.id) continue;
    lines.push(`- ${change.file ? `${change.file}: ` : ''}${change.comment}`);
  }
  return lines.join('\n');
}
