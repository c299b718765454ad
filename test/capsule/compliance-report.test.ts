import { renderComplianceReport, type ComplianceReportContext } from '../../capsule/compliance-report';
import { CAPABILITY_TITLES, requirementLabel } from '../../contracts/requirements';
import type { ValidationReport } from '../../contracts/validation';
import { CHECKS } from '../../validation/compliance/checks';
import { runCompliance } from '../../validation/compliance/engine';
import { analyseCoverage } from '../../validation/coverage/analyse';
import { projectFromFiles } from '../../validation/project';
import { buildValidationReport, REPORT_LIMITS } from '../../validation/report';
import { DEFAULT_THRESHOLDS } from '../../validation/scoring';
import { runStaticReview } from '../../validation/static';

// The auditor's compliance report (compliance-report.md and .html), made from a real validation report:
// layers 1 and 3 run on a small project, requirement coverage traced, the report bounded. Each output is
// read back the way a renderer shows it, cell by cell, so the assertions are on what an auditor sees.

/** Generated text that tries every way out: HTML, attributes, a table cell, a line break, links, emphasis. */
const HOSTILE =
  'evil <script>alert(1)</script> <img src=x onerror=alert(2)> " onload="alert(3)" \' | [click](https://evil.example) ' +
  '**bold** `code` $x$ &amp;\n| forged | row |\n# heading';
/** What a one-line cell shows: line breaks are white space there. */
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

const files = {
  'package.json': JSON.stringify({ name: 'ledger', dependencies: { express: '^5.0.0' } }),
  'src/app.ts': [
    "import { createServer } from 'node:http';",
    "import { authenticate } from './auth';",
    'export function createApp(tokens: Map<string, string>) {',
    '  return createServer((req, res) => {',
    '    if (!authenticate(req.headers.authorization, tokens)) {',
    '      res.writeHead(401).end();',
    '      return;',
    '    }',
    "    res.end('ledger');",
    '  });',
    '}',
  ].join('\n'),
  'src/auth.ts':
    'export function authenticate(header: string | undefined, tokens: Map<string, string>) {\n  return header?.startsWith("Bearer ") && tokens.has(header.slice(7));\n}\n',
  'src/client.ts':
    "import https from 'https';\nexport const a = new https.Agent({ rejectUnauthorized: false });\nexport const b = new https.Agent({ rejectUnauthorized: false });\n",
  'test/app.test.ts': [
    "import { test } from 'node:test';",
    "import { createApp } from '../src/app';",
    "test('a request without a token is refused with 401', () => {",
    '  createApp(new Map());',
    '});',
  ].join('\n'),
  'assets/blob.bin': '\u0000\u0001binary',
};

const context: ComplianceReportContext = {
  intentId: '97d03910-e873-48bb-afed-f976e98f1d98',
  capsuleId: 'bcea52a9-d59f-4730-8faa-bc810307c47a',
  version: 3,
  createdAt: '2026-03-04T05:06:07.000Z',
  intentText: `A HIPAA ledger with authentication.\n\n${HOSTILE}`,
  projectName: `ledger ${HOSTILE}`,
};

/** A real report (HIPAA claimed, one compliance check crashing, one finding per rule kept), plus hostile text. */
async function realReport(): Promise<ValidationReport> {
  const project = projectFromFiles(Object.entries(files).map(([path, content]) => ({ path, content })));
  const meta = { intentId: context.intentId, generatedAt: new Date('2026-03-04T05:00:00.000Z') };
  const staticReport = await runStaticReview(project, meta, { semgrep: 'separately' });
  const crashing = new Map(
    [...CHECKS].map(([id, check]) => [
      id,
      id === 'pii-in-logs'
        ? {
            ...check,
            run: () => {
              throw new Error('parser gave up');
            },
          }
        : check,
    ]),
  );
  const compliance = await runCompliance(project, meta, { claimed: ['HIPAA'], checks: crashing });
  const coverage = analyseCoverage({
    project,
    requirements: [
      { id: 'R1', kind: 'functional', text: `A ledger: ${HOSTILE}` },
      { id: 'R2', kind: 'control', capability: 'authentication', text: 'authentication' },
      { id: 'R3', kind: 'control', capability: 'audit-logging', text: 'audit logging' },
      { id: 'R4', kind: 'control', framework: 'HIPAA', text: 'HIPAA' },
    ],
    tasks: [{ id: 'api', covers: ['R1', 'R2'] }],
    tests: {
      status: 'assessed',
      results: [{ name: 'a request without a token is refused with 401', status: 'passed' }],
    },
    compliance: { status: 'assessed', frameworks: compliance.frameworks },
  });
  const report = buildValidationReport(
    {
      intentId: context.intentId,
      static: staticReport,
      compliance,
      thresholds: DEFAULT_THRESHOLDS,
      coverage,
      reportKeys: { sarif: 's' },
      generatedAt: meta.generatedAt,
    },
    { ...REPORT_LIMITS, perRule: 1 },
  );
  // Generated text reaches these too: a finding's message, a test's name, a path, a reason.
  const soc2 = report.frameworks.find((f) => f.framework === 'SOC2')!;
  const failed = soc2.controls.find((c) => c.status === 'fail')!;
  failed.evidence.push({
    ruleId: 'soc2.tls-verification-disabled',
    path: 'src/<b>x|y</b>.ts',
    line: 7,
    message: HOSTILE,
  });
  soc2.controls.find((c) => c.status === 'not_applicable')!.reason = HOSTILE;
  soc2.notCovered[0]!.reason = HOSTILE;
  report.requirements!.find((r) => r.id === 'R2')!.tests.push({ name: HOSTILE, file: 'test/<i>.ts', status: 'failed' });
  report.notAssessedFiles!.push({ path: `assets/${HOSTILE}.bin`, tool: 'content', reason: HOSTILE });
  report.truncated!.byFile.push({ path: HOSTILE, cut: 1 });
  report.verdict.reasons.push(HOSTILE);
  return report;
}

// Reading the outputs back -------------------------------------------------------------------------

const decode = (text: string) =>
  text.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name]!,
  );

/** Splits markdown on an unescaped `separator`, keeping escapes for mdShown. */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let part = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length) part += text[i]! + text[++i]!;
    else if (text[i] === separator) [parts[parts.length], part] = [part, ''];
    else part += text[i];
  }
  return [...parts, part];
}

/** What a markdown renderer shows for inline text: escapes resolved, our ** bold markers gone, entities decoded. */
function mdShown(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length) out += text[++i];
    else if (text[i] !== '*') out += text[i];
  }
  return decode(out);
}

type Table = { head: string[]; rows: string[][][] };

/** GitHub-flavoured tables of a markdown section: each cell as its shown lines. */
function mdTables(markdown: string): Table[] {
  const tables: Table[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('| ') || !/^\| ---( \| ---)* \|$/.test(lines[i + 1] ?? '')) continue;
    const cells = (line: string) =>
      splitUnescaped(line.slice(1, -1), '|').map((cell) => cell.trim().split('<br>').map(mdShown));
    const head = cells(lines[i]!).map((cell) => cell[0]!);
    const rows: string[][][] = [];
    for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
      expect(lines[i]!.endsWith(' |')).toBe(true);
      rows.push(cells(lines[i]!));
    }
    tables.push({ head, rows });
  }
  return tables;
}

/** Tables of an HTML section: each cell as its shown lines. */
function htmlTables(html: string): Table[] {
  return [...html.matchAll(/<table>([\s\S]*?)<\/table>/g)].map(([, table]) => {
    const head = [...table!.matchAll(/<th>(.*?)<\/th>/g)].map(([, cell]) => decode(cell!));
    const body = table!.slice(table!.indexOf('<tbody>'));
    const rows = [...body.matchAll(/<tr>(.*?)<\/tr>/g)].map(([, row]) =>
      [...row!.matchAll(/<td>(.*?)<\/td>/g)].map(([, cell]) =>
        cell!.split('<br>').map((line) => decode(line.replace(/<\/?span[^>]*>/g, ''))),
      ),
    );
    return { head, rows };
  });
}

/** The sections under each level-2 heading, by the heading's shown text. */
function sections(output: string, format: 'md' | 'html'): Map<string, string> {
  const parts = format === 'md' ? output.split(/\n(?=## )/) : output.split(/(?=<h2>)/);
  return new Map(
    parts.slice(1).map((part) => {
      const heading =
        format === 'md' ? mdShown(part.slice(3, part.indexOf('\n'))) : decode(part.slice(4, part.indexOf('</h2>')));
      return [heading, part];
    }),
  );
}

/** The value of a `label: value` field, as shown. */
function fieldOf(output: string, format: 'md' | 'html', label: string): string | undefined {
  if (format === 'md') {
    const line = output.split('\n').find((l) => l.startsWith(`- **${label}:** `));
    return line === undefined ? undefined : mdShown(line.slice(`- **${label}:** `.length));
  }
  const match = new RegExp(`<dt>${label}</dt><dd>(.*?)</dd>`).exec(output);
  return match ? decode(match[1]!.replace(/<\/?span[^>]*>/g, '')) : undefined;
}

const tablesOf = (section: string, format: 'md' | 'html') =>
  format === 'md' ? mdTables(section) : htmlTables(section);
const tableWith = (section: string, format: 'md' | 'html', firstHeading: string) =>
  tablesOf(section, format).find((t) => t.head[0] === firstHeading)!;

const STATUS_SHOWN: Record<string, string> = {
  pass: 'pass',
  fail: 'FAIL',
  not_applicable: 'not applicable',
  not_assessed: 'not assessed',
  covered: 'covered',
  not_covered: 'NOT COVERED',
  not_verifiable: 'not verifiable',
  passed: 'passed',
  failed: 'FAILED',
  not_run: 'not run',
};

describe('compliance report (markdown and HTML)', () => {
  let report: ValidationReport;
  let rendered: { markdown: string; html: string };

  beforeAll(async () => {
    report = await realReport();
    rendered = renderComplianceReport(report, context);
  });

  it('is made from a report with every case in it', () => {
    const controls = report.frameworks.flatMap((f) => f.controls);
    expect(new Set(controls.map((c) => c.status))).toEqual(new Set(['pass', 'fail', 'not_applicable', 'not_assessed']));
    expect(controls.some((c) => c.status === 'fail' && c.evidence.length > 0)).toBe(true);
    expect(report.frameworks.find((f) => f.framework === 'HIPAA')!.claimed).toBe(true);
    expect(controls.some((c) => c.required?.some((r) => r.status === 'fail'))).toBe(true);
    expect(report.requirements!.map((r) => r.status)).toEqual(expect.arrayContaining(['covered', 'not_covered']));
    expect(report.truncated!.findingsCut).toBeGreaterThan(0);
  });

  it.each(['md', 'html'] as const)(
    '%s: every framework and control, with status, evidence, reasons and required capabilities',
    (format) => {
      const output = format === 'md' ? rendered.markdown : rendered.html;
      const bySection = sections(output, format);
      for (const fw of report.frameworks) {
        const section = bySection.get(`${fw.name} (${fw.framework}), version ${fw.version}`)!;
        expect(section).toBeDefined();
        const shown = format === 'md' ? mdShown(section) : decode(section);
        expect(shown).toContain(
          `${fw.counts.pass} pass, ${fw.counts.fail} fail, ${fw.counts.notApplicable} not applicable, ${fw.counts.notAssessed} not assessed`,
        );
        expect(shown).toContain(
          fw.claimed ? 'yes: the controls it requires were checked' : 'no: checked for violations only',
        );

        const controls = tableWith(section, format, 'Control');
        expect(controls.head).toEqual([
          'Control',
          'Status',
          'Rules',
          'Evidence (path:line — message (rule))',
          'Reason',
          'Required capabilities',
        ]);
        expect(controls.rows).toHaveLength(fw.controls.length);
        fw.controls.forEach((control, index) => {
          const [id, status, rules, evidence, reason, required] = controls.rows[index]!;
          expect(id).toEqual([oneLine(`${control.id}: ${control.title}`)]);
          expect(status).toEqual([STATUS_SHOWN[control.status], `severity ${control.severity}`]);
          expect(rules).toEqual(control.rules.length ? control.rules : ['—']);
          expect(evidence).toEqual(
            control.evidence.length
              ? control.evidence.map((e) => oneLine(`${e.path}:${e.line} — ${e.message} (${e.ruleId})`))
              : ['—'],
          );
          expect(reason).toEqual([control.reason ? oneLine(control.reason) : '—']);
          expect(required).toEqual(
            control.required?.length
              ? control.required.map((r) =>
                  oneLine(`${CAPABILITY_TITLES[r.capability]}: ${STATUS_SHOWN[r.status]} (${r.reason})`),
                )
              : ['—'],
          );
        });

        const beyondCode = tablesOf(section, format).find((t) => t.head[2] === 'Why it is not covered')!;
        expect(beyondCode.rows).toEqual(
          fw.notCovered.map((c) => [[oneLine(c.id)], [oneLine(c.title)], [oneLine(c.reason)]]),
        );
      }
    },
  );

  it.each(['md', 'html'] as const)('%s: the header, the verdict, the scores and how each came about', (format) => {
    const output = format === 'md' ? rendered.markdown : rendered.html;
    expect(fieldOf(output, format, 'Project')).toBe(oneLine(context.projectName));
    expect(fieldOf(output, format, 'Intent')).toBe(context.intentId);
    expect(fieldOf(output, format, 'Capsule')).toBe(context.capsuleId);
    expect(fieldOf(output, format, 'Capsule version')).toBe('3');
    expect(fieldOf(output, format, 'Capsule created')).toBe(context.createdAt);
    expect(fieldOf(output, format, 'Validation report generated')).toBe(report.generatedAt);
    expect(fieldOf(output, format, 'Verdict')).toBe('FAILED');
    const bySection = sections(output, format);
    const verdict = bySection.get('Verdict')!;
    for (const reason of report.verdict.reasons) {
      expect(format === 'md' ? mdShown(verdict) : decode(verdict)).toContain(oneLine(reason));
    }
    const scores = bySection.get('Scores')!;
    expect(tableWith(scores, format, 'Score').rows).toEqual([
      [['Overall'], [String(report.scores.overall)], [String(report.thresholds.minConfidenceScore)]],
      [['Security'], [String(report.scores.security)], [String(report.thresholds.securityThreshold)]],
      [['Quality'], [String(report.scores.quality)], [String(report.thresholds.qualityThreshold)]],
      [['Compliance'], [String(report.scores.compliance)], [String(report.thresholds.complianceThreshold)]],
    ]);
    const deductions = tablesOf(scores, format).filter((t) => t.head[0] === 'Rule or control');
    const { overall, security, quality, compliance } = report.explanations;
    const explained = [overall, security, quality, compliance].filter((e) => e.deductions.length > 0);
    expect(deductions.map((t) => t.rows)).toEqual(
      explained.map((e) => e.deductions.map((d) => [[d.ruleId], [d.severity], [String(d.count)], [String(d.points)]])),
    );
    const scoresShown = format === 'md' ? mdShown(scores) : decode(scores);
    for (const e of Object.values(report.explanations)) expect(scoresShown).toContain(e.formula);
  });

  it.each(['md', 'html'] as const)(
    '%s: the requirement coverage table, files not assessed and what was cut',
    (format) => {
      const bySection = sections(format === 'md' ? rendered.markdown : rendered.html, format);
      const coverage = tableWith(bySection.get('Requirements coverage')!, format, 'ID');
      expect(coverage.head).toEqual([
        'ID',
        'Requirement',
        'Kind',
        'Status',
        'Evidence (path:line — detail)',
        'Tests',
        'Reason',
      ]);
      expect(coverage.rows).toEqual(
        report.requirements!.map((r) => [
          [r.id],
          [oneLine(r.text)],
          [requirementLabel(r)],
          [STATUS_SHOWN[r.status]],
          r.evidence.length ? r.evidence.map((e) => oneLine(`${e.path}:${e.line} — ${e.detail}`)) : ['—'],
          r.tests.length
            ? r.tests.map((t) => oneLine(`${t.name}${t.file ? ` (${t.file})` : ''}: ${STATUS_SHOWN[t.status]}`))
            : ['—'],
          [oneLine(r.reason)],
        ]),
      );
      expect(tableWith(bySection.get('Files not assessed')!, format, 'Path').rows).toEqual(
        report.notAssessedFiles!.map((f) => [[oneLine(f.path)], [f.tool], [oneLine(f.reason)]]),
      );
      const cut = bySection.get('Findings left out')!;
      expect(format === 'md' ? mdShown(cut) : decode(cut)).toContain(
        `${report.truncated!.findingsCut} of ${report.truncated!.findingsTotal} findings were left out`,
      );
      expect(tableWith(cut, format, 'File').rows).toEqual(
        report.truncated!.byFile.map((f) => [[oneLine(f.path)], [String(f.cut)]]),
      );
    },
  );

  it('HTML: one self-contained page, every generated string escaped, nothing active', () => {
    const { html } = rendered;
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    // Only the tags and attributes the renderer writes: no event handlers, links, sources or external styles.
    const tags = [...html.matchAll(/<\/?([a-zA-Z0-9!]+)([^>]*)>/g)];
    const allowed =
      /^(!DOCTYPE|html|head|meta|title|style|body|main|h[123]|p|dl|dt|dd|blockquote|ul|li|table|thead|tbody|tr|th|td|br|span|strong)$/;
    for (const [, name, attributes] of tags) {
      expect(name).toMatch(allowed);
      expect(attributes).toMatch(
        /^(| html| lang="en"| charset="utf-8"| class="(good|bad|warn|muted|note)"| name="viewport" content="[^"]*"| http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'")$/,
      );
    }
    expect(html).not.toMatch(/<[^>]*\son[a-z]+\s*=/i);
    expect(/<style>([\s\S]*?)<\/style>/.exec(html)![1]).not.toMatch(/@import|url\(/i);
    // The hostile text is shown as written: in a cell on one line, in the intent with its line breaks.
    expect(decode(html)).toContain(oneLine(HOSTILE));
    expect(html).toContain(
      `<blockquote>A HIPAA ledger with authentication.\n\n${HOSTILE.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`)}</blockquote>`,
    );
  });

  it('markdown: generated text cannot add markup or break out of a table', () => {
    const { markdown } = rendered;
    const lines = markdown.split('\n');
    expect(markdown).not.toMatch(/<script|<img/i);
    expect(markdown).not.toContain('](');
    // Outside our <br> line breaks, no raw HTML, link, code, emphasis or heading markup from the data.
    for (const line of lines) {
      const unescaped = line.replace(/\\./g, '').replace(/^>( |$)/, '');
      expect(unescaped.replace(/<br>/g, '')).not.toMatch(/[<>[\]`$]/);
      expect(unescaped.replace(/^(- )?\*\*[^*]+\*\*/, '').replace(/\*\*[^*]+\*\*/g, '')).not.toMatch(/\*/);
    }
    expect(lines.filter((line) => /^#+ heading/.test(line))).toEqual([]);
    expect(lines.some((line) => line.startsWith('| forged'))).toBe(false);
    // Every table row has its header's number of cells (mdTables also checks each row ends the row).
    for (const table of mdTables(markdown)) for (const row of table.rows) expect(row).toHaveLength(table.head.length);
    // The intent keeps its lines, each quoted and escaped.
    expect(markdown).toContain('> A HIPAA ledger with authentication.\n>\n> evil &lt;script&gt;');
    expect(mdShown(markdown)).toContain(oneLine(HOSTILE.split('\n')[0]!));
  });

  it('is deterministic: the same report and context give the same bytes', async () => {
    expect(renderComplianceReport(report, context)).toEqual(rendered);
    expect(renderComplianceReport(structuredClone(report), { ...context })).toEqual(rendered);
    const again = await realReport();
    expect(renderComplianceReport(again, context)).toEqual(rendered);
  });

  it('says so when the report has no requirements, no frameworks, no list of unassessed files and nothing cut', () => {
    const bare: ValidationReport = {
      ...report,
      frameworks: [],
      requirements: undefined,
      notAssessedFiles: undefined,
      truncated: undefined,
    };
    const { markdown, html } = renderComplianceReport(bare, context);
    for (const shown of [mdShown(markdown), decode(html)]) {
      expect(shown).toContain('No compliance framework was assessed.');
      expect(shown).toContain('The plan lists no requirements, so there is no coverage table.');
      expect(shown).toContain('This report predates the list of files not assessed.');
      expect(shown).not.toContain('Findings left out');
    }
  });
});
