import { renderRequirements } from '../../cli/commands/validation';
import { coverageLine } from '../../cli/format';
import type { Requirement } from '../../contracts/requirements';
import type { TestResult } from '../../contracts/sandbox';
import type { StaticReport } from '../../contracts/validation';
import { runCompliance } from '../../validation/compliance/engine';
import { analyseCoverage, coverageSummary, keyTerms, type CoverageInput } from '../../validation/coverage/analyse';
import { projectFromFiles } from '../../validation/project';
import { buildValidationReport } from '../../validation/report';
import { DEFAULT_THRESHOLDS } from '../../validation/scoring';
import { renderDetails } from '../../workflows/details';

// Requirement coverage: each requirement traced to code AND to a test that exercised it and passed in the
// sandbox; an uncovered one is a finding that blocks `passed`. Frameworks claimed by the intent must show
// the controls they require implemented.

const project = (files: Record<string, string>) =>
  projectFromFiles(Object.entries(files).map(([path, content]) => ({ path, content })));

const server = {
  'src/app.ts': [
    "import { createServer } from 'node:http';",
    "import { authenticate } from './auth';",
    'export function createApp(tokens: Map<string, string>) {',
    '  return createServer((req, res) => {',
    '    if (!authenticate(req.headers.authorization, tokens)) {',
    '      res.writeHead(401).end();',
    '      return;',
    '    }',
    "    res.end('invoices');",
    '  });',
    '}',
  ].join('\n'),
  'src/auth.ts':
    'export function authenticate(header: string | undefined, tokens: Map<string, string>) {\n  return header?.startsWith("Bearer ") && tokens.has(header.slice(7));\n}\n',
  'test/app.test.ts': [
    "import { test } from 'node:test';",
    "import { createApp } from '../src/app';",
    "test('a request without a token is refused with 401', () => {",
    '  createApp(new Map());',
    '});',
    "test('lists invoices', () => {",
    '  createApp(new Map());',
    '});',
  ].join('\n'),
};

const requirements: Requirement[] = [
  { id: 'R1', kind: 'functional', text: 'A service that lists invoices' },
  { id: 'R2', kind: 'control', capability: 'authentication', text: 'authentication' },
  { id: 'R3', kind: 'control', capability: 'rate-limiting', text: 'rate limiting' },
];

const passed = (...names: string[]): TestResult[] => names.map((name) => ({ name, status: 'passed' as const }));

const input = (overrides: Partial<CoverageInput> = {}): CoverageInput => ({
  project: project(server),
  requirements,
  tasks: [
    { id: 'module', covers: ['R1', 'R2'] },
    { id: 'readme', covers: ['R1'] },
  ],
  tests: { status: 'assessed', results: passed('a request without a token is refused with 401', 'lists invoices') },
  compliance: { status: 'assessed', frameworks: [] },
  ...overrides,
});

const byId = (rows: ReturnType<typeof analyseCoverage>, id: string) => rows.find((r) => r.id === id)!;

describe('coverage analysis', () => {
  test('covered: evidence in the code and a test that reaches it, speaks of it and passed in the sandbox', () => {
    const rows = analyseCoverage(input());
    expect(byId(rows, 'R2')).toMatchObject({
      status: 'covered',
      coveredBy: ['module'],
      evidence: [{ path: 'src/app.ts', line: 6 }],
      tests: [{ name: 'a request without a token is refused with 401', file: 'test/app.test.ts', status: 'passed' }],
    });
    expect(byId(rows, 'R1')).toMatchObject({ status: 'covered', coveredBy: ['module', 'readme'] });
    expect(byId(rows, 'R1').tests.map((t) => t.name)).toContain('lists invoices');
  });

  test('not covered: asked for, no implementation, no task took it on', () => {
    const row = byId(analyseCoverage(input()), 'R3');
    expect(row).toMatchObject({ status: 'not_covered', coveredBy: [], evidence: [], tests: [] });
    expect(row.reason).toMatch(/no rate limiting found in the code: looked for .*429.* No task of the plan took it on/);
    const declined = byId(analyseCoverage(input({ declined: ['rate-limiting'] })), 'R3');
    expect(declined.reason).toMatch(/The planner said it does not implement it/);
  });

  test('not covered: implemented, but the test that exercises it failed, did not run, or there is none', () => {
    const failed = byId(
      analyseCoverage(
        input({
          tests: {
            status: 'assessed',
            results: [{ name: 'a request without a token is refused with 401', status: 'failed' }],
          },
        }),
      ),
      'R2',
    );
    expect(failed).toMatchObject({ status: 'not_covered', tests: [{ status: 'failed' }] });
    expect(failed.reason).toMatch(
      /no test that exercises it passed: "a request without a token is refused with 401" \(failed\)/,
    );
    const notRun = byId(
      analyseCoverage(input({ tests: { status: 'assessed', results: passed('lists invoices') } })),
      'R2',
    );
    expect(notRun).toMatchObject({ status: 'not_covered', tests: [{ status: 'not_run' }] });
    const untested = byId(
      analyseCoverage(input({ project: project({ ...server, 'test/app.test.ts': "import '../src/app';\n" }) })),
      'R2',
    );
    expect(untested.status).toBe('not_covered');
    expect(untested.reason).toMatch(/but no test exercises it/);
  });

  test('a test that does not import the implementation does not count, whatever its name says', () => {
    const files = {
      ...server,
      'test/app.test.ts':
        "import { test } from 'node:test';\ntest('a request without a token is refused with 401', () => {});\n",
    };
    const row = byId(analyseCoverage(input({ project: project(files) })), 'R2');
    expect(row.status).toBe('not_covered');
  });

  test('not verifiable: implemented, but layer 2 did not run or did not name its tests', () => {
    const noSandbox = byId(
      analyseCoverage(input({ tests: { status: 'not_assessed', reason: 'no isolation available' } })),
      'R2',
    );
    expect(noSandbox).toMatchObject({ status: 'not_verifiable' });
    expect(noSandbox.reason).toMatch(/its tests did not run: no isolation available/);
    const oldRunner = byId(analyseCoverage(input({ tests: { status: 'assessed' } })), 'R2');
    expect(oldRunner.reason).toMatch(/did not report which tests ran/);
  });

  test('functional requirements: nothing they name in the code is not covered; words without a passing test only not verifiable', () => {
    const rows = analyseCoverage(
      input({
        requirements: [
          { id: 'R1', kind: 'functional', text: 'Export shipments as spreadsheets' },
          { id: 'R2', kind: 'functional', text: 'Track invoices' },
        ],
        tests: { status: 'assessed', results: [] },
      }),
    );
    expect(byId(rows, 'R1')).toMatchObject({ status: 'not_covered' });
    expect(byId(rows, 'R1').reason).toMatch(
      /none of what it names appears in the code \(export, shipments, spreadsheets\)/,
    );
    expect(byId(rows, 'R2')).toMatchObject({ status: 'not_verifiable' });
    expect(keyTerms('Build a TypeScript REST API for books with title')).toEqual(['books', 'title']);
  });

  test('frameworks: from the compliance layer, with the failing controls named', async () => {
    const compliance = await runCompliance(project(server), { intentId: 'i' }, { frameworks: [], claimed: ['HIPAA'] });
    const rows = analyseCoverage(
      input({
        requirements: [{ id: 'R1', kind: 'control', framework: 'HIPAA', text: 'comply with HIPAA' }],
        compliance: { status: 'assessed', frameworks: compliance.frameworks },
      }),
    );
    expect(rows[0]).toMatchObject({ status: 'not_covered' });
    expect(rows[0]!.reason).toMatch(
      /HIPAA controls fail: .*164\.312\(b\) \(requires audit logging, and none was found/,
    );
    const unassessed = analyseCoverage(
      input({
        requirements: [{ id: 'R1', kind: 'control', framework: 'HIPAA', text: 'comply with HIPAA' }],
        compliance: { status: 'not_assessed', reason: 'the worker crashed' },
      }),
    );
    expect(unassessed[0]).toMatchObject({
      status: 'not_verifiable',
      reason: 'compliance was not assessed: the worker crashed',
    });
  });
});

const staticLayer: StaticReport = {
  schemaVersion: 1,
  layer: 'static',
  intentId: 'i',
  generatedAt: new Date(0).toISOString(),
  filesReviewed: 3,
  checks: [
    { tool: 'typescript', status: 'passed', findingCount: 0, durationMs: 1 },
    { tool: 'secrets', status: 'passed', findingCount: 0, durationMs: 1 },
  ],
  findings: [],
};

describe('coverage in the verdict, the report and the gate', () => {
  const report = (coverage: ReturnType<typeof analyseCoverage>) =>
    buildValidationReport({
      intentId: 'i',
      static: staticLayer,
      compliance: { status: 'not_assessed', reason: 'x' },
      thresholds: DEFAULT_THRESHOLDS,
      coverage,
      reportKeys: { sarif: 's' },
    });

  test('an uncovered requirement is a high finding: it lowers quality and fails the verdict', () => {
    const rows = analyseCoverage(input());
    const built = report(rows);
    expect(built.requirements).toEqual(rows);
    expect(built.scores.quality).toBe(90);
    expect(built.verdict.status).toBe('failed');
    expect(built.verdict.reasons).toContain('requirement R3 (rate limiting) not covered');
    const found = built.findings.find((f) => f.tool === 'coverage')!;
    expect(found).toMatchObject({ ruleId: 'coverage/requirement-not-covered', severity: 'high', category: 'quality' });
    expect(found.message).toMatch(/^Requirement R3 \(rate limiting\) is not covered/);
    expect(built.recommendations[0]!.title).toMatch(/Requirement R3/);
  });

  test('all covered: nothing added; a control that could not be verified is a gap (never passed)', () => {
    const covered = analyseCoverage(input({ requirements: requirements.slice(0, 2) }));
    expect(report(covered).verdict.reasons.filter((r) => r.startsWith('requirement'))).toEqual([]);
    const unverified = analyseCoverage(
      input({ requirements: requirements.slice(0, 2), tests: { status: 'not_assessed', reason: 'no sandbox' } }),
    );
    const verdict = report(unverified).verdict;
    expect(verdict.reasons).toContain(
      'requirement R2 (authentication) not verifiable: authentication implemented at src/app.ts:6, but its tests did not run: no sandbox',
    );
    // A functional requirement without proof is for the reviewer: not a gap.
    expect(verdict.reasons.some((r) => r.startsWith('requirement R1'))).toBe(false);
  });

  test('the gate, the Web UI and the CLI show the counts and what was not built; text from others is shown literally', () => {
    const rows = analyseCoverage(
      input({
        requirements: [
          ...requirements,
          { id: 'R4', kind: 'functional', text: 'Export \u001b[31mshipments\u001b[0m as *spreadsheets*' },
        ],
      }),
    );
    const summary = coverageSummary(rows);
    expect(summary.counts).toEqual({ covered: 2, notCovered: 2, notVerifiable: 0 });
    expect(summary.items.map((i) => i.status)).toEqual(['covered', 'covered', 'not_covered', 'not_covered']);
    expect(summary.uncovered.map((u) => u.id)).toEqual(['R3', 'R4']);
    expect(coverageLine(summary, { color: false })).toBe('2/4 requirements covered, 2 not covered, 0 not verifiable');

    const details = renderDetails({
      intentId: 'i',
      status: 'AWAITING_APPROVAL',
      tasks: [],
      gate: { state: 'open' },
      validation: {
        typecheck: { status: 'passed', filesChecked: 1, errorCount: 0, firstErrors: [] },
        reportKey: 'k',
        score: {
          verdict: 'failed',
          reasons: [],
          scores: { overall: 80, security: 100, quality: 80, compliance: 100 },
          counts: { critical: 0, high: 2, medium: 0, low: 0, info: 0 },
          reportKey: 'r',
          sarifKey: 's',
          topRecommendations: [],
          coverage: summary,
        },
      },
    });
    expect(details).toContain('Requirements: 2/4 covered, **2 not covered**, 0 not verifiable');
    expect(details).toMatch(/- ✘ R3 rate-limiting: rate limiting — no rate limiting found in the code/);
    expect(details).toContain('\\*spreadsheets\\*');

    const table = renderRequirements(rows).join('\n');
    expect(table).toMatch(
      /R2\s+covered\s+control\s+authentication\s+src\/app\.ts:6\s+a request without a token is refused with 401/,
    );
    expect(table).toMatch(/R3\s+NOT COVERED\s+control\s+rate-limiting\s+-\s+-/);
    expect(table).not.toContain('\u001b');
    expect(table).toContain('\\x1b[31mshipments');
  });
});

describe('frameworks the intent claims', () => {
  const serverOnly = project({
    'src/app.ts':
      "import { createServer } from 'node:http';\nexport const app = createServer((req, res) => res.end('ok'));\n",
  });

  test('their required controls must be implemented: a HIPAA service without authentication or audit fails them', async () => {
    const report = await runCompliance(serverOnly, { intentId: 'i' }, { frameworks: ['SOC2'], claimed: ['HIPAA'] });
    expect(report.frameworks.map((f) => [f.framework, f.claimed ?? false])).toEqual([
      ['SOC2', false],
      ['HIPAA', true],
    ]);
    const hipaa = report.frameworks.find((f) => f.framework === 'HIPAA')!;
    const control = (id: string) => hipaa.controls.find((c) => c.id === id)!;
    expect(control('164.312(d)')).toMatchObject({
      status: 'fail',
      severity: 'high',
      required: [{ capability: 'authentication', status: 'fail' }],
    });
    expect(control('164.312(d)').reason).toMatch(
      /requires authentication, and none was found: looked for a credential check/,
    );
    expect(control('164.312(b)').status).toBe('fail');
    // Encryption at rest applies to projects that keep records; this one keeps none, and says so.
    expect(control('164.312(a)(2)(iv)').required).toEqual([
      expect.objectContaining({ capability: 'encryption-at-rest', status: 'not_applicable' }),
    ]);
    const missing = report.findings.filter((f) => f.ruleId.startsWith('compliance/requires-'));
    expect(missing.map((f) => f.ruleId).sort()).toEqual([
      'compliance/requires-audit-logging',
      'compliance/requires-authentication',
      'compliance/requires-input-validation',
      'compliance/requires-tls',
    ]);
    expect(missing.find((f) => f.ruleId === 'compliance/requires-authentication')!.controls?.sort()).toEqual([
      'HIPAA 164.312(a)(1)',
      'HIPAA 164.312(d)',
    ]);
    // SOC2 is selected but not claimed: only its rules run.
    const soc2 = report.frameworks.find((f) => f.framework === 'SOC2')!;
    expect(soc2.controls.every((c) => c.required === undefined)).toBe(true);
  });

  test('present capabilities pass with their evidence; a project with no interface has them not applicable, with the reason', async () => {
    const withAuth = await runCompliance(project(server), { intentId: 'i' }, { frameworks: [], claimed: ['HIPAA'] });
    const control = withAuth.frameworks[0]!.controls.find((c) => c.id === '164.312(d)')!;
    expect(control.required).toEqual([expect.objectContaining({ capability: 'authentication', status: 'pass' })]);
    expect(control.evidence).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ruleId: 'hipaa.requires-authentication', path: 'src/app.ts', line: 6 }),
      ]),
    );
    const library = await runCompliance(
      project({ 'src/add.ts': 'export const add = (a: number, b: number) => a + b;\n' }),
      { intentId: 'i' },
      { frameworks: [], claimed: ['HIPAA'] },
    );
    const auth = library.frameworks[0]!.controls.find((c) => c.id === '164.312(d)')!;
    expect(auth.required![0]).toMatchObject({ status: 'not_applicable' });
    expect(auth.required![0]!.reason).toMatch(/not applicable: the project serves no network requests/);
  });

  test('a failed control weighs what FAILED, not its most severe rule: one medium finding no longer caps compliance at 40', async () => {
    const weakToken = project({
      'src/token.ts': 'export const sessionToken = () => Math.random().toString(36).slice(2);\n',
    });
    const compliance = await runCompliance(weakToken, { intentId: 'i' }, { frameworks: ['HIPAA'] });
    const control = compliance.frameworks[0]!.controls.find((c) => c.id === '164.312(d)')!;
    expect(control.status).toBe('fail');
    expect(control.rules).toContain('hipaa.hardcoded-secret'); // a critical rule of the control, which passed
    expect(control.severity).toBe('medium');
    const built = buildValidationReport({
      intentId: 'i',
      static: staticLayer,
      compliance,
      thresholds: DEFAULT_THRESHOLDS,
      reportKeys: { sarif: 's' },
    });
    expect(built.scores.compliance).toBeGreaterThan(40);
    expect(built.explanations.compliance.cap).toBeUndefined();
  });
});
