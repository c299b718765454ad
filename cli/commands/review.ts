import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { DROP_GATES, DropGate, type QuantumDrop, type QuantumDropView } from '../../contracts/drop';
import { requireUuid } from '../arguments';
import { contextOf, out } from '../context';
import { CliError, usageError } from '../errors';
import { coverageLine, formatTime, oneLine, paint, requirementName, safe, table, type RenderOptions } from '../format';
import { escapeMultiLine } from '../terminal-text';

export function registerReview(program: Command): void {
  program
    .command('review')
    .description(
      "show an intent's review bundle (QuantumDrop) at its gate: verdict, scores, findings, tests, coverage, cost and the diff",
    )
    .argument('<id>', 'intent id')
    .option('--gate <gate>', `which gate (${DROP_GATES.join(', ')})`, 'release')
    .option('--html <file>', 'save the self-contained HTML page (no scripts) to this file instead')
    .action(async (id: string, options: { gate: string; html?: string }, command: Command) => {
      const intentId = requireUuid(id, 'intent id');
      const gate = DropGate.safeParse(options.gate);
      if (!gate.success) throw usageError(`--gate must be one of ${DROP_GATES.join(', ')}`);
      const ctx = contextOf(command);
      const path = `/intents/${intentId}/drops/${gate.data}`;
      if (options.html) {
        const response = await ctx.api.stream(`${path}?format=html`);
        if (!/^text\/html\b/i.test(response.headers.get('content-type') ?? ''))
          throw new CliError(`the API did not answer ${path}?format=html with an HTML page`);
        await writeFile(options.html, Buffer.from(await response.arrayBuffer()));
        return out(
          ctx.json ? JSON.stringify({ path: options.html }) : `saved the review page to ${safe(options.html)}`,
        );
      }
      const response = await ctx.api.get<QuantumDropView>(path);
      if (ctx.json) return out(response.raw);
      out(renderDrop(response.body, { color: ctx.color }));
      out(`\nAs a page: qlp review ${intentId} --html review.html`);
    });
}

const show = (score: number | null) => (score === null ? 'n/a' : String(score));
const label = (name: string) => `${name}:`.padEnd(13);
const STATUS_LETTER = { added: 'A', modified: 'M', removed: 'D' } as const;

/** One diff line, escaped (tabs stay) and coloured by its kind. */
function diffLine(line: string, options: RenderOptions): string {
  const text = escapeMultiLine(line.replace(/\r$/, ''));
  if (line.startsWith('+++ ') || line.startsWith('--- ')) return paint(text, 'bold', options);
  if (line.startsWith('@@')) return paint(text, 'cyan', options);
  if (line.startsWith('+')) return paint(text, 'green', options);
  if (line.startsWith('-')) return paint(text, 'red', options);
  if (line.startsWith('\\')) return paint(text, 'dim', options);
  return text;
}

function changeNote(change: QuantumDrop['changes'][number]): string {
  if (change.binary) return 'binary, not diffed';
  if (change.notAssessed) return oneLine(change.notAssessed, 120);
  if (change.truncated)
    return `${change.truncated.omittedLines} lines not shown (${oneLine(change.truncated.reason, 100)})`;
  return '';
}

function headerLines(drop: QuantumDrop, options: RenderOptions): string[] {
  const v = drop.validation;
  const verdictTone = v.verdict === 'passed' ? 'green' : v.verdict === 'failed' ? 'red' : 'yellow';
  const reasons = v.reasons.length ? ` (${v.reasons.map((r) => oneLine(r, 200)).join('; ')})` : '';
  const compared = drop.previousVersion === null ? 'first version' : `compared with version ${drop.previousVersion}`;
  const cost = drop.cost;
  return [
    `QuantumDrop  ${safe(drop.gate)} gate, version ${drop.version} (${compared})`,
    `${label('Intent')}${safe(drop.intentId)}`,
    `${label('Project')}${safe(drop.plan.projectName)} (planner ${safe(drop.plan.planner)})`,
    `${label('Created')}${formatTime(drop.createdAt)}`,
    ...(drop.reviewDigest ? [`${label('Digest')}${safe(drop.reviewDigest)}`] : []),
    `${label('Verdict')}${paint(safe(v.verdict), verdictTone, options)}${reasons}`,
    `${label('Scores')}overall ${show(v.scores.overall)}, security ${show(v.scores.security)}, quality ${show(v.scores.quality)}, compliance ${show(v.scores.compliance)}`,
    `${label('Type-check')}${safe(v.typecheck.status)}, ${v.typecheck.errorCount} errors`,
    ...v.typecheck.firstErrors.slice(0, 5).map((e) => `  ${oneLine(e, 160)}`),
    `${label('Cost')}${
      cost === null
        ? 'not recorded'
        : cost.offline && cost.calls === 0
          ? 'none (offline catalogue, no LLM)'
          : `${cost.calls} calls (${cost.cachedCalls} cached), ${cost.tokens} tokens, ${cost.costUsd === null ? 'cost n/a (unpriced model)' : `$${cost.costUsd.toFixed(4)}`}`
    }`,
  ];
}

function findingLines(drop: QuantumDrop, options: RenderOptions): string[] {
  const { findings, findingsTotal, counts } = drop.validation;
  const tally = counts
    ? `${counts.critical} critical, ${counts.high} high, ${counts.medium} medium, ${counts.low} low, ${counts.info} info`
    : `${findingsTotal}`;
  const rows = findings.map((f) => [
    safe(f.severity),
    safe(f.ruleId),
    f.path === null ? '-' : `${safe(f.path)}${f.line === null ? '' : `:${f.line}`}`,
    oneLine(f.message, 160),
  ]);
  return [
    `${label('Findings')}${tally}${findings.length < findingsTotal ? ` (the ${findings.length} most severe below)` : ''}`,
    ...(rows.length
      ? table(['SEVERITY', 'RULE', 'WHERE', 'MESSAGE'], rows, (_row, col, cell) =>
          col === 0 && ['critical', 'high'].includes(cell.trim()) ? paint(cell, 'red', options) : cell,
        )
          .split('\n')
          .map((line) => `  ${line}`)
      : []),
  ];
}

function testLines(drop: QuantumDrop, options: RenderOptions): string[] {
  const t = drop.validation.tests;
  if (t.status === 'not_run') return [`${label('Tests')}not run (${oneLine(t.reason ?? 'no reason given', 200)})`];
  const failed = t.failed ? paint(`${t.failed} failed`, 'red', options) : '0 failed';
  return [
    `${label('Tests')}${t.passed} passed, ${failed}, ${t.skipped} skipped`,
    ...t.failures.map((f) => `  ${paint('FAIL', 'red', options)} ${oneLine(f.name, 100)}: ${oneLine(f.message, 160)}`),
  ];
}

function coverageLines(drop: QuantumDrop, options: RenderOptions): string[] {
  const coverage = drop.validation.coverage;
  if (coverage === null) return [`${label('Coverage')}the plan lists no requirements`];
  const counts = {
    covered: coverage.filter((r) => r.status === 'covered').length,
    notCovered: coverage.filter((r) => r.status === 'not_covered').length,
    notVerifiable: coverage.filter((r) => r.status === 'not_verifiable').length,
  };
  return [
    `${label('Coverage')}${coverageLine({ counts, items: coverage, uncovered: [] }, options)}`,
    ...coverage.map(
      (r) =>
        `  ${safe(r.id)} ${safe(r.status)} ${requirementName(r)}` +
        (r.evidence[0] ? ` at ${safe(r.evidence[0].path)}:${r.evidence[0].line}` : '') +
        (r.status === 'covered' ? '' : `: ${oneLine(r.reason, 120)}`),
    ),
  ];
}

function changeLines(drop: QuantumDrop, options: RenderOptions): string[] {
  const s = drop.changeSummary;
  const count = (n: number | null) => (n === null ? '-' : String(n));
  const rows = drop.changes.map((c) => [
    STATUS_LETTER[c.status],
    safe(c.path),
    `+${count(c.additions)}`,
    `-${count(c.deletions)}`,
    changeNote(c),
  ]);
  return [
    `Plan:        ${drop.plan.tasks.length} tasks`,
    ...drop.plan.tasks.map((t) => `  ${safe(t.id)} (${safe(t.type)}): ${oneLine(t.description, 120)}`),
    '',
    `${label('Changes')}${s.added} added, ${s.modified} modified, ${s.removed} removed, ${s.unchanged} unchanged; ` +
      `${paint(`+${s.additions}`, 'green', options)} ${paint(`-${s.deletions}`, 'red', options)} lines`,
    ...(rows.length
      ? table(['', 'FILE', 'ADDED', 'REMOVED', 'NOTE'], rows)
          .split('\n')
          .slice(1)
          .map((line) => `  ${line}`)
      : []),
    ...s.cut.map((note) => `  cut: ${oneLine(note, 200)}`),
  ];
}

/** The drop for a terminal: its summary, then every diff; every server string escaped (the diff keeps its tabs). */
export function renderDrop(drop: QuantumDrop, options: RenderOptions): string {
  const diffs = drop.changes.flatMap((change) => {
    const lines = change.diff.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const note = changeNote(change);
    return [
      '',
      ...(lines.length
        ? lines.map((line) => diffLine(line, options))
        : [paint(`# ${safe(change.path)} (${change.status})`, 'bold', options)]),
      ...(note ? [paint(`# ${note}`, 'yellow', options)] : []),
    ];
  });
  return [
    ...headerLines(drop, options),
    ...findingLines(drop, options),
    ...testLines(drop, options),
    ...coverageLines(drop, options),
    '',
    ...changeLines(drop, options),
    ...diffs,
  ].join('\n');
}
