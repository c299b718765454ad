import type { GateState } from '../contracts/decision';
import type { IntentState } from '../contracts/state';
import { markdownLiteral } from '../contracts/text';
import type { CoverageSummary } from '../contracts/requirements';
import type { DynamicSummary, LayerFailure } from '../contracts/validation';

const marks = { PENDING: '·', RUNNING: '▶', COMPLETED: '✔', FAILED: '✘', CANCELLED: '⊘', SKIPPED: '↷' } as const;

/**
 * The "current details" markdown the Web UI shows for a running intent. Text that people or tools
 * wrote (reasons, approvers) goes through markdownLiteral(), so it reads as written, never as markup.
 */
export function renderDetails(state: IntentState): string {
  const done = state.tasks.filter((t) => t.state === 'COMPLETED').length;
  const lines = [`**${state.status}**${state.reason ? ` — ${markdownLiteral(state.reason)}` : ''}`];
  if (state.tasks.length) {
    lines.push('', `Tasks ${done}/${state.tasks.length}:`);
    for (const task of state.tasks)
      lines.push(`- ${marks[task.state]} \`${task.id}\` (${task.type}) ${task.state.toLowerCase()}`);
  }
  if (state.validation) {
    const { typecheck, score, dynamic } = state.validation;
    lines.push('', `Type-check: ${typecheck.status}${typecheck.errorCount ? ` (${typecheck.errorCount} errors)` : ''}`);
    if (score) {
      const s = (n: number | null) => (n === null ? 'n/a' : String(n));
      const { overall, security, quality, compliance } = score.scores;
      lines.push(
        `Validation: **${score.verdict}** — overall ${s(overall)}, security ${s(security)}, quality ${s(quality)}, compliance ${s(compliance)}`,
      );
      if (score.coverage) lines.push(...coverageLines(score.coverage));
    }
    if (dynamic) lines.push(...sandboxLines(dynamic));
  }
  if (state.similar?.matches.length) lines.push('', ...similarLines(state.similar));
  if (state.gate?.state === 'open') lines.push('', ...openGateLines(state.intentId, state.gate));
  if (state.gate?.decision) {
    const d = state.gate.decision;
    const at = d.decidedAt ? ` at ${d.decidedAt}` : '';
    const reason = d.reason ? ` — ${markdownLiteral(d.reason)}` : '';
    const unsigned = d.authenticated === false ? ', unauthenticated' : '';
    lines.push('', `Decision: ${d.decision} by ${markdownLiteral(d.approver)} (via ${d.via}${unsigned})${at}${reason}`);
  }
  if (state.ignoredDecisions) {
    const { count, latest } = state.ignoredDecisions;
    lines.push(
      '',
      `Ignored \`decision\` signals: ${count}${count > latest.length ? ` (latest ${latest.length})` : ''}`,
    );
    for (const ignored of latest) {
      const who = ignored.approver === undefined ? '' : ` from ${markdownLiteral(ignored.approver) || '(blank)'}`;
      lines.push(`- ${ignored.at}${who}: ${markdownLiteral(ignored.reason)}`);
    }
  }
  if (state.usage?.calls) {
    const { calls, cachedCalls, promptTokens, completionTokens } = state.usage;
    lines.push('', `LLM: ${calls} calls (${cachedCalls} cached), ${promptTokens + completionTokens} tokens`);
  }
  if (state.capsule) lines.push('', `Capsule: \`${state.capsule.key}\``);
  return lines.join('\n');
}

/** Layer 2 for the gate: where the tests ran, what they said, and the first problems. */
function sandboxLines(dynamic: DynamicSummary | LayerFailure): string[] {
  if (dynamic.status === 'not_assessed') return [`Sandbox: not assessed — ${dynamic.reason}`];
  const { passed, failed } = dynamic.tests;
  return [
    `Sandbox (${dynamic.driver}): ${dynamic.outcome}, ${passed} tests passed, ${failed} failed`,
    ...dynamic.problems.map((problem) => `- ${markdownLiteral(problem)}`),
  ];
}

/** Requirement coverage for the gate: the counts, and each requirement asked for but not shown built. */
function coverageLines(coverage: CoverageSummary): string[] {
  const { covered, notCovered, notVerifiable } = coverage.counts;
  const total = coverage.items.length;
  return [
    `Requirements: ${covered}/${total} covered, **${notCovered} not covered**, ${notVerifiable} not verifiable`,
    ...coverage.uncovered.map(
      (r) =>
        `- ✘ ${r.id} ${r.capability ?? r.framework ?? 'functional'}: ${markdownLiteral(r.text, 200)} — ${markdownLiteral(r.reason, 400)}`,
    ),
  ];
}

/** An open gate for an ops person: which, until when, who may decide, and exactly what to send. */
function openGateLines(intentId: string, gate: GateState): string[] {
  const { id = 'release', deadline, roles, required, approvals = [], digest, unsignedSignals } = gate;
  const end = gate.onTimeout === 'cancel' ? 'cancels the intent' : 'rejects';
  const until = deadline ? `; ${end} at ${deadline} unless decided` : '';
  const version =
    gate.version && (gate.maxVersions ?? 1) > 1 ? ` (version ${gate.version} of at most ${gate.maxVersions})` : '';
  const lines = [`**Gate \`${id}\` is open**${version}${until}.`];
  if (id === 'plan') lines.push('Approving the plan starts the agents; `planEdit` may drop or reword tasks.');
  if (gate.remindedAt) lines.push(`Reminder sent at ${gate.remindedAt}.`);
  if (gate.escalated) lines.push(`Escalated to ${markdownLiteral(gate.escalated.to)} at ${gate.escalated.at}.`);
  if (required !== undefined) {
    const names = approvals.filter((a) => a.decision === 'approve').map((a) => markdownLiteral(a.name));
    const who = roles?.length ? ` by the ${roles.map((r) => `\`${r}\``).join(', ')} role` : '';
    lines.push(`Approvals: ${names.length} of ${required}${who}${names.length ? ` (${names.join(', ')})` : ''}`);
  }
  if (!digest) {
    lines.push('Send the `decision` signal: `{"decision": "approve", "approver": "you@example.com", "reason": "…"}`');
    return lines;
  }
  lines.push(
    `Review digest: \`${digest}\``,
    'To decide: `qlp approve|reject' +
      (id === 'release' && (gate.maxVersions ?? 1) > 1 ? '|request-changes ' : ' ') +
      intentId +
      ' --reason "…"`, or send the update `submitDecision` or the',
    `signal \`decision\` with \`{"token": "…"}\`, the signed decision from \`qlp approve ${intentId} --token\``,
    `(or \`POST /api/v1/intents/${intentId}/decision-token\`).`,
  );
  if (unsignedSignals === 'accept') {
    lines.push(
      'This deployment also takes an unsigned `decision` signal, recorded as unauthenticated:',
      '`{"decision": "approve", "approver": "you@example.com", "reason": "…"}`',
    );
  }
  return lines;
}

/** Similar earlier intents, for reviewers: "we built something like this before". */
function similarLines(similar: NonNullable<IntentState['similar']>): string[] {
  const how = similar.embedding.offline ? 'local n-gram embedding, offline' : similar.embedding.model;
  return [
    `Similar earlier intents (${how}):`,
    ...similar.matches.map(
      (m) =>
        `- \`${m.intentId}\` ${(m.similarity * 100).toFixed(0)}% ${m.status.toLowerCase()}` +
        (m.capsuleId ? `, capsule \`${m.capsuleId}\`` : '') +
        (m.approvers.length ? `, approved by ${m.approvers.map(markdownLiteral).join(', ')}` : '') +
        (m.overall === null ? '' : `, overall ${m.overall}`),
    ),
  ];
}
