import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import canonicalize from 'canonicalize';
import type { PlanEdit } from '../contracts/decision';
import type { Plan } from '../contracts/plan';
import type { PlanGatePolicy } from '../contracts/workflow';

// The plan gate's pure rules (workflow-safe: no Node APIs): when it opens, what approvers sign, and
// how an approver's edit changes the plan.

/** What approvers of the plan sign: sha256 over the canonical JSON of the tasks they saw. */
export function planDigest(plan: Plan): string {
  return bytesToHex(sha256(utf8ToBytes(canonicalize(plan.tasks) ?? '[]')));
}

/** Whether this plan waits for a human before any agent runs. */
export function planGateOpens(policy: PlanGatePolicy | undefined, plan: Plan): boolean {
  if (!policy) return false;
  if (policy.always) return true;
  if (policy.minTasks !== undefined && plan.tasks.length >= policy.minTasks) return true;
  return Boolean(policy.onInfra && plan.tasks.some((task) => task.type === 'infra'));
}

export type EditResult = { ok: true; plan: Plan } | { ok: false; reason: string };

/** Applies an approver's edit: drop tasks (none another task still depends on), reword descriptions. */
export function applyPlanEdit(plan: Plan, edit: PlanEdit | undefined): EditResult {
  if (!edit) return { ok: true, plan };
  const ids = new Set(plan.tasks.map((task) => task.id));
  const unknown = [...(edit.remove ?? []), ...(edit.describe ?? []).map((d) => d.task)].filter((id) => !ids.has(id));
  if (unknown.length) return { ok: false, reason: `planEdit names tasks not in the plan: ${unknown.join(', ')}` };
  const removed = new Set(edit.remove ?? []);
  const kept = plan.tasks.filter((task) => !removed.has(task.id));
  if (kept.length === 0) return { ok: false, reason: 'planEdit removes every task: reject the plan instead' };
  const orphaned = kept.filter((task) => task.dependencies.some((dep) => removed.has(dep)));
  if (orphaned.length) {
    const names = orphaned.map(
      (task) => `${task.id} (needs ${task.dependencies.filter((d) => removed.has(d)).join(', ')})`,
    );
    return { ok: false, reason: `planEdit removes tasks others depend on: ${names.join('; ')}` };
  }
  const described = new Map((edit.describe ?? []).map((d) => [d.task, d.description]));
  const tasks = kept.map((task) => (described.has(task.id) ? { ...task, description: described.get(task.id)! } : task));
  return { ok: true, plan: { ...plan, tasks } };
}
