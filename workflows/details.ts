import type { IntentState } from '../contracts/state';

const marks = { PENDING: '·', RUNNING: '▶', COMPLETED: '✔', FAILED: '✘', CANCELLED: '⊘', SKIPPED: '↷' } as const;

/** The "current details" markdown the Web UI shows for a running intent. */
export function renderDetails(state: IntentState): string {
  const done = state.tasks.filter((t) => t.state === 'COMPLETED').length;
  const lines = [`**${state.status}**${state.reason ? ` — ${state.reason}` : ''}`];
  if (state.tasks.length) {
    lines.push('', `Tasks ${done}/${state.tasks.length}:`);
    for (const task of state.tasks)
      lines.push(`- ${marks[task.state]} \`${task.id}\` (${task.type}) ${task.state.toLowerCase()}`);
  }
  if (state.validation) {
    const { status, errorCount } = state.validation.typecheck;
    lines.push('', `Type-check: ${status}${errorCount ? ` (${errorCount} errors)` : ''}`);
  }
  if (state.gate?.state === 'open') lines.push('', 'Waiting for a `decision` (approve/reject).');
  if (state.gate?.decision) {
    const d = state.gate.decision;
    lines.push('', `Decision: ${d.decision} by ${d.approver}${d.reason ? ` — ${d.reason}` : ''}`);
  }
  if (state.usage?.calls) {
    const { calls, cachedCalls, promptTokens, completionTokens } = state.usage;
    lines.push('', `LLM: ${calls} calls (${cachedCalls} cached), ${promptTokens + completionTokens} tokens`);
  }
  if (state.capsule) lines.push('', `Capsule: \`${state.capsule.key}\``);
  return lines.join('\n');
}
