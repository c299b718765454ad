import { terminalStatuses } from '../contracts/intent';
import type { CoverageSummary, Requirement } from '../contracts/requirements';
import type { LayerFailure, SandboxBrief } from '../contracts/validation';
import type { HealthReport, IntentPage, IntentView, TaskView } from '../contracts/views';
import { escapeOneLine } from './terminal-text';

/** Pure renderers: JSON in, text out, so they are testable without a stack. */

export interface RenderOptions {
  color: boolean;
}

const plain: RenderOptions = { color: false };

const codes = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;
type Tone = keyof typeof codes;

export function paint(text: string, tone: Tone, options: RenderOptions): string {
  return options.color ? `\x1b[${codes[tone]}m${text}\x1b[0m` : text;
}

/** Colours only for a terminal that wants them (https://no-color.org). */
export function wantsColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}

function statusTone(status: string): Tone {
  if (status === 'COMPLETED') return 'green';
  if (status === 'AWAITING_APPROVAL') return 'yellow';
  if (['FAILED', 'REJECTED', 'CANCELLED'].includes(status)) return 'red';
  return 'cyan';
}

export function paintStatus(status: string, options: RenderOptions): string {
  return paint(status, statusTone(status), options);
}

/** Left-aligned columns; widths are measured before colouring so ANSI codes don't skew them. */
export function table(
  header: string[],
  rows: string[][],
  colorize?: (row: number, col: number, cell: string) => string,
): string {
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((r) => (r[col] ?? '').length)));
  const line = (cells: string[], row: number) =>
    cells
      .map((cell, col) => {
        const padded = col === cells.length - 1 ? cell : cell.padEnd(widths[col] ?? 0);
        return row >= 0 && colorize ? colorize(row, col, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  return [line(header, -1), ...rows.map((r, i) => line(r, i))].join('\n');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** ISO timestamps without milliseconds, in UTC, so output is the same on every machine. */
export function formatTime(iso: string | null): string {
  if (!iso) return '-';
  return iso
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
    .replace(/Z$/, ' UTC');
}

/** One line of at most `max` characters; whitespace runs become one space, other control characters are escaped. */
export function oneLine(text: string, max: number): string {
  const single = escapeOneLine(text.replace(/\s+/g, ' ').trim());
  return single.length > max ? `${single.slice(0, max - 1)}…` : single;
}

export function taskProgress(tasks: TaskView[] | undefined): string {
  if (!tasks || tasks.length === 0) return 'no tasks yet';
  const done = tasks.filter((t) => t.status === 'COMPLETED').length;
  const failed = tasks.filter((t) => t.status === 'FAILED').length;
  return `${done}/${tasks.length} tasks done${failed ? `, ${failed} failed` : ''}`;
}

const label = (name: string) => `${name}:`.padEnd(12);

export function renderIntent(intent: IntentView, options: RenderOptions = plain): string {
  const lines: string[] = [];
  const reason = intent.statusReason ? ` (${oneLine(intent.statusReason, 200)})` : '';
  lines.push(`${label('Intent')}${intent.id}`);
  lines.push(`${label('Status')}${paintStatus(intent.status, options)}${reason}`);
  lines.push(`${label('Tenant')}${safe(intent.tenant)}`);
  lines.push(`${label('Text')}${oneLine(intent.text, 100)}`);
  lines.push(`${label('Created')}${formatTime(intent.createdAt)}`);
  if (intent.completedAt) lines.push(`${label('Finished')}${formatTime(intent.completedAt)}`);

  lines.push('', `Tasks (${taskProgress(intent.tasks)})`);
  if (intent.tasks && intent.tasks.length > 0) {
    const rows = intent.tasks.map((t) => [
      safe(t.id),
      safe(t.type),
      safe(t.status),
      t.attempts ? String(t.attempts) : '-',
      taskDuration(t),
      t.fileCount === null ? '-' : String(t.fileCount),
    ]);
    const body = table(['ID', 'TYPE', 'STATUS', 'ATTEMPTS', 'TIME', 'FILES'], rows, (_row, col, cell) =>
      col === 2 ? paint(cell, taskTone(cell.trim()), options) : cell,
    );
    lines.push(indent(body));
    for (const t of intent.tasks.filter((task) => task.error))
      lines.push(`  ${paint(`${safe(t.id)}: ${oneLine(t.error ?? '', 300)}`, 'red', options)}`);
  }

  lines.push('', ...renderValidation(intent, options), ...renderGate(intent), ...renderCapsule(intent));
  if (intent.usage) lines.push(`${label('LLM')}${renderUsage(intent.usage)}`);
  lines.push('', `${label('Web UI')}${safe(intent.links.temporalUi)}`);
  return lines.join('\n');
}

function taskTone(status: string): Tone {
  return status === 'COMPLETED'
    ? 'green'
    : status === 'FAILED' || status === 'CANCELLED'
      ? 'red'
      : status === 'RUNNING'
        ? 'cyan'
        : 'dim';
}

function renderValidation(intent: IntentView, options: RenderOptions): string[] {
  const tc = intent.validation?.typecheck;
  if (!tc) return [`${label('Validation')}not run yet`];
  const tone: Tone = tc.status === 'passed' ? 'green' : tc.status === 'failed' ? 'red' : 'yellow';
  const errors = `${tc.errorCount} error${tc.errorCount === 1 ? '' : 's'}`;
  const lines = [
    `${label('Validation')}typecheck ${paint(safe(tc.status), tone, options)}, ${errors}, ${tc.filesChecked} files checked`,
  ];
  const score = intent.validation?.score;
  if (score) {
    const s = (n: number | null) => (n === null ? 'n/a' : String(n));
    const { overall, security, quality, compliance } = score.scores;
    lines.push(
      `${label('  scores')}${safe(score.verdict)}: overall ${s(overall)}, security ${s(security)}, quality ${s(quality)}, compliance ${s(compliance)}`,
      `${label('  details')}qlp validation ${intent.id}`,
    );
  }
  const dynamic = intent.validation?.dynamic;
  if (dynamic) lines.push(`${label('  sandbox')}${dynamicLine(dynamic)}`);
  const coverage = score?.coverage;
  if (coverage) {
    lines.push(`${label('  asked for')}${coverageLine(coverage, options)}`);
    for (const r of coverage.uncovered.slice(0, 5))
      lines.push(
        `  ${paint('not covered', 'red', options)} ${safe(r.id)} ${requirementName(r)}: ${oneLine(r.reason, 110)}`,
      );
  }
  for (const message of tc.firstErrors.slice(0, 5)) lines.push(`  ${oneLine(message, 120)}`);
  if (tc.errorCount > 5) lines.push(`  … (full report: ${safe(intent.validation?.reportKey ?? '')})`);
  return lines;
}

function renderGate(intent: IntentView): string[] {
  const gate = intent.gate;
  if (!gate) return [`${label('Gate')}not reached yet`];
  // Earlier gates first: the plan gate, then each version sent back with changes.
  const history = (gate.history ?? []).map(
    (past) =>
      `  ${past.id}${past.version ? ` v${past.version}` : ''}: ${gateLine({ state: 'decided', decision: past.decision })}`,
  );
  const name = `${gate.id ?? 'release'} gate${gate.version ? ` (version ${gate.version}${gate.maxVersions ? ` of at most ${gate.maxVersions}` : ''})` : ''}`;
  if (gate.state === 'open') {
    const approvedBy = (gate.approvals ?? []).filter((a) => a.decision === 'approve');
    const canRequestChanges = gate.id !== 'plan' && (gate.version ?? 1) < (gate.maxVersions ?? 1);
    return [
      `${label('Gate')}open, waiting for a decision` +
        (gate.required ? ` (${approvedBy.length} of ${gate.required} approvals)` : '') +
        ` at the ${name}`,
      ...history,
      ...(gate.digest ? [`  review digest: ${safe(gate.digest)}`] : []),
      ...approvedBy.map((a) => `  approved by ${safe(a.name)} (${safe(a.method)}) at ${formatTime(a.decidedAt)}`),
      `  qlp approve ${intent.id}${gate.id === 'plan' ? ' [--remove-task <task>]' : ''}`,
      `  qlp reject ${intent.id} --reason <why>`,
      ...(canRequestChanges ? [`  qlp request-changes ${intent.id} --reason <what> [--task <task>:<comment>]`] : []),
    ];
  }
  return [`${label('Gate')}${gateLine(gate)}`, ...history];
}

/** A gate that is no longer open: "decided, approve by alice (via update) at 2026-11-30 02:13:56 UTC: reviewed". */
export function gateLine(gate: NonNullable<IntentView['gate']>): string {
  const d = gate.decision;
  if (!d) return gate.state.replace('_', ' ');
  const at = d.decidedAt ? ` at ${formatTime(d.decidedAt)}` : '';
  const reason = d.reason ? `: ${oneLine(d.reason, 200)}` : '';
  const unsigned = d.authenticated === false ? ', unauthenticated' : '';
  return `${safe(gate.state.replace('_', ' '))}, ${safe(d.decision)} by ${safe(d.approver)} (via ${safe(d.via)}${unsigned})${at}${reason}`;
}

/** Text from others (intent text, names, reasons) on one line, its control characters shown, never obeyed by the terminal. */
export function safe(text: string): string {
  return escapeOneLine(text);
}

/** One line: calls, cache hits, tokens and cost, or that the offline catalogue answered. */
export function renderUsage(usage: NonNullable<IntentView['usage']>): string {
  if (usage.mode === 'offline' && usage.calls === 0) return 'none (offline catalogue, no LLM configured)';
  const n = (value: number) => value.toLocaleString('en-US');
  const cost = usage.costUsd === null ? 'cost n/a (unpriced model)' : `$${usage.costUsd.toFixed(4)}`;
  const failed = usage.failedCalls ? `, ${usage.failedCalls} failed` : '';
  return (
    `${usage.calls} calls (${usage.cachedCalls} cached${failed}), ${n(usage.totalTokens)} tokens ` +
    `(${n(usage.promptTokens)} prompt + ${n(usage.completionTokens)} completion), ${cost}`
  );
}

function renderCapsule(intent: IntentView): string[] {
  const c = intent.capsule;
  if (!c) return [`${label('Capsule')}${terminalStatuses.includes(intent.status) ? 'none' : 'none yet'}`];
  return [
    `${label('Capsule')}${safe(c.id)} (v${c.version}, ${c.fileCount} files)`,
    `${label('  sha256')}${safe(c.sha256)}`,
    `${label('  size')}${formatBytes(c.sizeBytes)} (${c.sizeBytes} bytes)`,
    `${label('  location')}${safe(c.location)}`,
    `${label('  download')}qlp download ${intent.id}`,
  ];
}

export function renderSubmitted(intent: IntentView, replayed: boolean, options: RenderOptions = plain): string {
  return [
    `${label('Intent')}${intent.id}${replayed ? ' (already submitted with this idempotency key)' : ''}`,
    `${label('Status')}${paintStatus(intent.status, options)}`,
    `${label('Web UI')}${safe(intent.links.temporalUi)}`,
    `${label('Next')}qlp watch ${intent.id}`,
  ].join('\n');
}

export function renderIntentList(page: IntentPage, options: RenderOptions = plain): string {
  if (page.items.length === 0) return 'no intents';
  const rows = page.items.map((i) => [
    safe(i.id),
    safe(i.status),
    safe(i.tenant),
    formatTime(i.createdAt),
    oneLine(i.text, 50),
  ]);
  const body = table(['ID', 'STATUS', 'TENANT', 'CREATED', 'TEXT'], rows, (_row, col, cell) =>
    col === 1 ? paint(cell, statusTone(cell.trim()), options) : cell,
  );
  return page.nextCursor ? `${body}\n\nmore: qlp list --cursor ${page.nextCursor}` : body;
}

export function renderHealth(report: HealthReport, options: RenderOptions = plain): string {
  const checks = Object.entries(report.checks);
  const withErrors = checks.some(([, c]) => c.error);
  const rows = checks.map(([name, c]) => [
    safe(name),
    c.ok ? 'ok' : 'FAIL',
    `${c.latencyMs} ms`,
    ...(withErrors ? [oneLine(c.error ?? '', 200)] : []),
  ]);
  const body = table(['CHECK', 'STATE', 'LATENCY', ...(withErrors ? ['ERROR'] : [])], rows, (_row, col, cell) =>
    col === 1 ? paint(cell, cell.trim() === 'ok' ? 'green' : 'red', options) : cell,
  );
  const overall = paint(report.status, report.status === 'ok' ? 'green' : 'red', options);
  return `API status: ${overall}\n${body}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** One line per change while waiting: "EXECUTING, 1/3 tasks done". */
/** How long a task ran (or has been running, from its start to now). */
function taskDuration(task: TaskView, now = Date.now()): string {
  if (!task.startedAt) return '-';
  const ms = (task.finishedAt ? Date.parse(task.finishedAt) : now) - Date.parse(task.startedAt);
  const text = ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
  return task.finishedAt ? text : `${text}…`;
}

export function progressLine(intent: IntentView): string {
  const reason = intent.statusReason ? ` (${oneLine(intent.statusReason, 200)})` : '';
  return `${safe(intent.status)}${reason}, ${taskProgress(intent.tasks)}`;
}

/** Layer 2 in one line: where it ran and what the tests said, or why it did not run. */
export function dynamicLine(dynamic: SandboxBrief | LayerFailure): string {
  if ('reason' in dynamic) return `not assessed (${oneLine(dynamic.reason, 200)})`;
  const { driver, outcome, tests, limitHits, durationMs } = dynamic;
  const limits = limitHits.length ? `, stopped at the ${safe(limitHits.join(' and '))} limit` : '';
  return `${safe(outcome)} in ${safe(driver)}: ${tests.passed} tests passed, ${tests.failed} failed${limits} (${durationMs} ms)`;
}

/** Requirement coverage in one line: "2/5 requirements covered, 2 not covered, 1 not verifiable". */
export function coverageLine(coverage: CoverageSummary, options: RenderOptions = plain): string {
  const { covered, notCovered, notVerifiable } = coverage.counts;
  const missing = notCovered ? paint(`${notCovered} not covered`, 'red', options) : '0 not covered';
  return `${covered}/${coverage.items.length} requirements covered, ${missing}, ${notVerifiable} not verifiable`;
}

/** A requirement's short name: its capability or framework, else its (intent's) words. */
export function requirementName(requirement: Pick<Requirement, 'text' | 'capability' | 'framework'>): string {
  return safe(requirement.capability ?? requirement.framework ?? `"${oneLine(requirement.text, 60)}"`);
}
