import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ValidationReport } from '../../contracts/validation';
import type { IntentView, ValidationReportView } from '../../contracts/views';
import { requireUuid } from '../arguments';
import { coverageLine, dynamicLine, gateLine, oneLine, requirementName, safe, table } from '../format';
import { fetchIntent } from '../poll';
import { contextOf, out } from '../context';

export function registerValidation(program: Command): void {
  program
    .command('validation')
    .description("show an intent's validation: verdict, scores, compliance per framework, recommendations")
    .argument('<id>', 'intent id')
    .option('--sarif <file>', 'save the SARIF 2.1.0 report to this file instead')
    .action(async (id: string, options: { sarif?: string }, command: Command) => {
      const intentId = requireUuid(id, 'intent id');
      const ctx = contextOf(command);
      if (options.sarif) {
        const sarif = await ctx.api.get<unknown>(`/intents/${intentId}/validation?format=sarif`);
        await writeFile(options.sarif, sarif.raw);
        return out(ctx.json ? JSON.stringify({ path: options.sarif }) : `saved SARIF to ${safe(options.sarif)}`);
      }
      const response = await ctx.api.get<ValidationReportView>(`/intents/${intentId}/validation`);
      if (ctx.json) return out(response.raw);
      const { gate } = (await fetchIntent(ctx.api, intentId)).body;
      out(renderValidationReport(response.body, gate));
    });
}

const show = (score: number | null) => (score === null ? 'n/a' : String(score));

/** The report, and the approval it led to when `gate` (the intent's) is given and no longer open. */
export function renderValidationReport(report: ValidationReport, gate?: IntentView['gate']): string {
  const { scores } = report;
  const lines = [
    `Verdict:     ${safe(report.verdict.status)}${report.verdict.reasons.length ? ` (${report.verdict.reasons.map((r) => oneLine(r, 200)).join('; ')})` : ''}`,
    ...(gate ? [`Approval:    ${gate.state === 'open' ? 'waiting for a decision' : gateLine(gate)}`] : []),
    `Scores:      overall ${show(scores.overall)}, security ${show(scores.security)}, quality ${show(scores.quality)}, compliance ${show(scores.compliance)}`,
    '',
    'Compliance:',
    ...report.frameworks.map(
      (f) =>
        `  ${safe(f.framework).padEnd(9)} ${safe(f.status).padEnd(13)} ${f.counts.pass} pass, ${f.counts.fail} fail, ` +
        `${f.counts.notApplicable} not applicable, ${f.notCovered.length} controls not covered by the packs` +
        (f.claimed ? ' (claimed by the intent: its required controls were checked)' : ''),
    ),
  ];
  if (report.requirements?.length) lines.push('', ...renderRequirements(report.requirements));
  const dynamic = report.layers?.dynamic;
  const layer2 =
    dynamic?.status === 'not_assessed' ? { status: dynamic.status, reason: dynamic.reason ?? '' } : report.sandbox;
  if (layer2) lines.push('', `Sandbox:     ${dynamicLine(layer2)}`);
  const notAssessed = report.checks.filter((c) => c.status === 'not_assessed' || c.status === 'skipped');
  if (notAssessed.length) {
    lines.push(
      '',
      'Not assessed:',
      ...notAssessed.map(
        (c) => `  ${safe(c.tool)}: ${safe(c.status)}${c.reason ? ` (${oneLine(c.reason, 200)})` : ''}`,
      ),
    );
  }
  if (report.recommendations.length) {
    lines.push(
      '',
      'Recommendations:',
      ...report.recommendations
        .slice(0, 5)
        .map(
          (r) =>
            `  ${r.priority}. [${safe(r.severity)}] ${oneLine(r.title, 200)} (${r.occurrences}×${r.controls.length ? `; ${safe(r.controls.join(', '))}` : ''})`,
        ),
    );
  }
  return lines.join('\n');
}

const STATUS_TEXT = { covered: 'covered', not_covered: 'NOT COVERED', not_verifiable: 'not verifiable' } as const;

/**
 * The coverage table: what the intent asked for, whether the project shows it built (evidence file:line
 * and a test that passed in the sandbox), and why not. Text from the intent and the project goes through safe().
 */
export function renderRequirements(requirements: NonNullable<ValidationReport['requirements']>): string[] {
  const counts = {
    covered: requirements.filter((r) => r.status === 'covered').length,
    notCovered: requirements.filter((r) => r.status === 'not_covered').length,
    notVerifiable: requirements.filter((r) => r.status === 'not_verifiable').length,
  };
  const rows = requirements.map((r) => [
    safe(r.id),
    STATUS_TEXT[r.status],
    safe(r.kind),
    requirementName(r),
    r.evidence[0] ? `${safe(r.evidence[0].path)}:${r.evidence[0].line}` : '-',
    r.tests.find((t) => t.status === 'passed')?.name ?? '-',
  ]);
  const body = table(
    ['ID', 'STATUS', 'KIND', 'WHAT', 'EVIDENCE', 'TEST THAT PASSED'],
    rows.map((row) => [...row.slice(0, 5), oneLine(row[5]!, 60)]),
  );
  return [
    `Requirements: ${coverageLine({ counts, items: requirements, uncovered: [] })}`,
    ...body.split('\n').map((line) => `  ${line}`),
    ...requirements
      .filter((r) => r.status !== 'covered')
      .map((r) => `  ${safe(r.id)} ${STATUS_TEXT[r.status]}: ${oneLine(r.reason, 200)}`),
  ];
}
