import type { SandboxRunResult } from '../../contracts/sandbox';
import type { ComplianceReport, ControlResult, DynamicReport, Finding, StaticReport } from '../../contracts/validation';
import { dynamicFindings, dynamicOutcome } from '../../validation/dynamic';
import { finding } from '../../validation/findings';
import { DEFAULT_THRESHOLDS, mergeSecurityFindings, recommend, scoreValidation } from '../../validation/scoring';
import { runCompliance } from '../../validation/compliance/engine';
import { projectFromFiles } from '../../validation/project';
import { runStaticReview } from '../../validation/static';

const at = (path: string, line: number) => ({ path, line });
const f = (
  ruleId: string,
  tool: Finding['tool'],
  category: Finding['category'],
  severity: Finding['severity'],
  path: string,
  line: number,
  extra: Partial<Finding> = {},
) =>
  finding({
    ruleId,
    tool,
    category,
    severity,
    message: `${ruleId} at ${path}:${line}`,
    location: at(path, line),
    remediation: `fix ${ruleId}`,
    ...extra,
  });

const staticReport = (findings: Finding[], overrides: Partial<StaticReport> = {}): StaticReport => ({
  schemaVersion: 1,
  layer: 'static',
  intentId: 'i',
  generatedAt: new Date(0).toISOString(),
  filesReviewed: 3,
  checks: [
    { tool: 'typescript', status: 'passed', findingCount: 0, durationMs: 1 },
    { tool: 'secrets', status: 'passed', findingCount: 0, durationMs: 1 },
    {
      tool: 'semgrep',
      status: 'not_assessed',
      reason: 'semgrep is not installed (not on PATH)',
      findingCount: 0,
      durationMs: 0,
    },
  ],
  findings,
  ...overrides,
});

const control = (id: string, status: ControlResult['status'], severity: ControlResult['severity']): ControlResult => ({
  id,
  title: id,
  status,
  severity,
  rules: [`r.${id}`],
  evidence: [],
});

const complianceReport = (controls: ControlResult[], findings: Finding[] = []): ComplianceReport => ({
  schemaVersion: 1,
  layer: 'compliance',
  intentId: 'i',
  generatedAt: new Date(0).toISOString(),
  frameworks: [
    {
      framework: 'SOC2',
      name: 'SOC 2',
      version: 'x',
      status: controls.some((c) => c.status === 'fail') ? 'fail' : 'pass',
      counts: { pass: 0, fail: 0, notApplicable: 0, notAssessed: 0 },
      controls,
      notCovered: [],
    },
  ],
  findings,
  checkErrors: [],
  customRules: { status: 'none', count: 0, errors: [] },
});

describe('scoring: the worked example of docs/validation.md', () => {
  const result = scoreValidation({
    static: staticReport([
      f('secrets/hardcoded-credential', 'secrets', 'security', 'high', 'src/config.ts', 3),
      f('eslint/no-eval', 'eslint', 'security', 'high', 'src/run.ts', 10, { cwe: ['CWE-95'] }),
      f('semgrep/qlp-eval-injection', 'semgrep', 'security', 'high', 'src/run.ts', 10, { cwe: ['CWE-95'] }),
      f('dependencies/unknown-package', 'dependencies', 'security', 'medium', 'package.json', 5),
      f('TS2322', 'typescript', 'quality', 'medium', 'src/run.ts', 4),
      f('TS6133', 'typescript', 'quality', 'medium', 'src/run.ts', 2),
      f('eslint/eqeqeq', 'eslint', 'quality', 'low', 'src/run.ts', 7),
    ]),
    compliance: complianceReport(
      [
        control('CC6.1', 'pass', 'critical'),
        control('CC6.7', 'pass', 'high'),
        control('CC7.2', 'fail', 'high'),
        control('C1.1', 'not_applicable', 'medium'),
      ],
      [f('compliance/pii-in-logs', 'compliance', 'security', 'medium', 'src/users.ts', 8, { controls: ['SOC2 C1.1'] })],
    ),
    thresholds: DEFAULT_THRESHOLDS,
  });

  it('security: 100 − (10 + 10 + 4 + 4) = 72, the two findings on src/run.ts:10 counted once', () => {
    expect(result.scores.security).toBe(72);
    expect(result.explanations.security.deductions.reduce((sum, d) => sum + d.points, 0)).toBe(28);
  });

  it('quality: 100 − (4 + 1 + 1) = 94, capped at 59 because the project does not type-check', () => {
    expect(result.explanations.quality.cap).toEqual({ value: 59, reason: 'the project does not type-check' });
    expect(result.scores.quality).toBe(59);
  });

  it('compliance: 100 × (25 + 10) / (25 + 10 + 10) = 77.8 → 78; not-applicable controls do not count', () => {
    expect(result.scores.compliance).toBe(78);
  });

  it('overall: 0.4 × 72 + 0.3 × 59 + 0.3 × 78 = 69.9 → 70; the verdict fails on the injection and on quality', () => {
    expect(result.scores.overall).toBe(70);
    expect(result.verdict).toEqual({
      status: 'failed',
      reasons: [
        'injection finding(s) fail the verdict regardless of scores: semgrep/qlp-eval-injection at src/run.ts:10',
        'quality score 59 is below 60',
      ],
    });
  });

  it('recommends the most severe, most frequent problems first, with their remediation', () => {
    expect(result.recommendations[0]).toMatchObject({
      priority: 1,
      severity: 'high',
      remediation: expect.stringMatching(/^fix /),
    });
    expect(result.recommendations.map((r) => r.severity)).toEqual(
      [...result.recommendations.map((r) => r.severity)].sort(
        (a, b) => ['critical', 'high', 'medium', 'low'].indexOf(a) - ['critical', 'high', 'medium', 'low'].indexOf(b),
      ),
    );
  });
});

describe('scoring rules', () => {
  it('caps security at 40 and overall at 50 with a critical finding', () => {
    const result = scoreValidation({
      static: staticReport([f('secrets/github', 'secrets', 'security', 'critical', 'src/a.ts', 1)]),
      compliance: complianceReport([control('CC6.1', 'pass', 'critical')]),
      thresholds: DEFAULT_THRESHOLDS,
    });
    expect(result.scores.security).toBe(40);
    expect(result.explanations.security.cap).toEqual({ value: 40, reason: 'at least one critical finding' });
    expect(result.scores.overall).toBe(50);
    expect(result.verdict.status).toBe('failed');
    expect(result.verdict.reasons).toContain('critical findings present');
  });

  it('caps compliance at 40 when a control with a critical rule fails', () => {
    const result = scoreValidation({
      static: staticReport([]),
      compliance: complianceReport([
        control('CC6.1', 'fail', 'critical'),
        ...Array.from({ length: 20 }, (_, i) => control(`X${i}`, 'pass', 'critical')),
      ]),
      thresholds: DEFAULT_THRESHOLDS,
    });
    expect(result.scores.compliance).toBe(40);
  });

  it('gives a clean project 100 everywhere and passes it', () => {
    const result = scoreValidation({
      static: staticReport([]),
      compliance: complianceReport([control('CC6.1', 'pass', 'critical')]),
      thresholds: DEFAULT_THRESHOLDS,
    });
    expect(result.scores).toEqual({ overall: 100, security: 100, quality: 100, compliance: 100 });
    expect(result.verdict).toEqual({ status: 'passed', reasons: [] });
    expect(result.explanations.security.notAssessed).toEqual(['semgrep: semgrep is not installed (not on PATH)']);
  });

  it('never scores a layer that did not run: null scores and a not_assessed verdict', () => {
    const result = scoreValidation({
      static: { status: 'not_assessed', reason: 'activity timed out' },
      compliance: complianceReport([control('CC6.1', 'pass', 'critical')]),
      thresholds: DEFAULT_THRESHOLDS,
    });
    expect(result.scores).toEqual({ overall: null, security: null, quality: null, compliance: 100 });
    expect(result.verdict).toEqual({
      status: 'not_assessed',
      reasons: ['static review not assessed: activity timed out'],
    });
  });

  it('is not assessed when secret detection or a control could not run', () => {
    const result = scoreValidation({
      static: staticReport([], {
        checks: [{ tool: 'secrets', status: 'not_assessed', reason: 'worker crashed', findingCount: 0, durationMs: 0 }],
      }),
      compliance: complianceReport([control('CC6.1', 'not_assessed', 'critical')]),
      thresholds: DEFAULT_THRESHOLDS,
    });
    expect(result.verdict.status).toBe('not_assessed');
    expect(result.verdict.reasons).toEqual([
      'secret detection not assessed: worker crashed',
      'controls not assessed: SOC2 CC6.1',
    ]);
  });

  it('applies configured thresholds', () => {
    const strict = { ...DEFAULT_THRESHOLDS, securityThreshold: 95 };
    const result = scoreValidation({
      static: staticReport([f('eslint/no-eval', 'eslint', 'security', 'high', 'src/a.ts', 1)]),
      compliance: complianceReport([control('CC6.1', 'pass', 'critical')]),
      thresholds: strict,
    });
    expect(result.verdict).toEqual({ status: 'failed', reasons: ['security score 90 is below 95'] });
  });

  it('merges one weakness seen by different detectors at one file:line, at the highest severity', () => {
    const merged = mergeSecurityFindings([
      f('a', 'eslint', 'security', 'medium', 'x.ts', 1, { cwe: ['CWE-78'] }),
      f('b', 'compliance', 'security', 'critical', 'x.ts', 1, { cwe: ['CWE-78', 'CWE-77'], controls: ['SOC2 CC6.1'] }),
      f('c', 'eslint', 'quality', 'low', 'x.ts', 1),
    ]);
    expect(merged.map((m) => m.ruleId)).toEqual(['b']);
    expect(recommend([])).toEqual([]);
  });

  it('counts distinct weaknesses at one place: different classes, or one rule at several places of a line', () => {
    const merged = mergeSecurityFindings([
      f('semgrep/sqli', 'semgrep', 'security', 'high', 'x.ts', 1, { cwe: ['CWE-89'] }),
      f('semgrep/xss', 'semgrep', 'security', 'high', 'x.ts', 1, { cwe: ['CWE-79'] }),
      f('semgrep/xss-taint', 'semgrep', 'security', 'high', 'x.ts', 1, { cwe: ['CWE-79'] }),
      f('secrets/a', 'secrets', 'security', 'high', 'x.ts', 1, {
        cwe: ['CWE-798'],
        location: { path: 'x.ts', line: 1, column: 5 },
      }),
      f('secrets/a', 'secrets', 'security', 'high', 'x.ts', 1, {
        cwe: ['CWE-798'],
        location: { path: 'x.ts', line: 1, column: 40 },
        message: 'a second secret',
      }),
      f('eslint/no-eval', 'eslint', 'security', 'high', 'x.ts', 1),
      f('dataflow/code', 'dataflow', 'security', 'high', 'x.ts', 1),
    ]);
    expect(merged.map((m) => m.ruleId).sort()).toEqual([
      'dataflow/code',
      'eslint/no-eval',
      'secrets/a',
      'secrets/a',
      'semgrep/sqli',
      'semgrep/xss',
    ]);
  });
});

describe('scoring with layer 2 (build and tests in the sandbox)', () => {
  const run = (overrides: Partial<SandboxRunResult> = {}): SandboxRunResult => ({
    driver: 'bubblewrap',
    status: 'completed',
    steps: [
      { step: 'install', status: 'passed', durationMs: 1, outputExcerpt: '' },
      { step: 'test', status: 'passed', durationMs: 50, exitCode: 0, outputExcerpt: '' },
    ],
    tests: { passed: 4, failed: 0, skipped: 0, failures: [] },
    limitHits: [],
    missingDependencies: [],
    durationMs: 120,
    startupMs: 45,
    resources: {},
    ...overrides,
  });
  const dynamic = (result: SandboxRunResult): DynamicReport => ({
    schemaVersion: 1,
    layer: 'dynamic',
    intentId: 'i',
    generatedAt: new Date(0).toISOString(),
    outcome: dynamicOutcome(result),
    run: result,
    findings: dynamicFindings(result),
  });
  const score = (layer2: DynamicReport | { status: 'not_assessed'; reason: string }) =>
    scoreValidation({
      static: staticReport([], { checks: [{ tool: 'typescript', status: 'passed', findingCount: 0, durationMs: 1 }] }),
      compliance: complianceReport([control('CC6.1', 'pass', 'high')]),
      dynamic: layer2,
      thresholds: DEFAULT_THRESHOLDS,
    });

  it('passing tests leave quality untouched and the verdict passed', () => {
    const result = score(dynamic(run()));
    expect(result.scores.quality).toBe(100);
    expect(result.verdict).toEqual({ status: 'passed', reasons: [] });
  });

  it('a failing test is a high quality finding naming the test, caps quality at 59 and fails the verdict', () => {
    const failing = run({
      steps: [{ step: 'test', status: 'failed', durationMs: 50, exitCode: 1, outputExcerpt: '' }],
      tests: {
        passed: 3,
        failed: 1,
        skipped: 0,
        failures: [{ name: 'adds', excerpt: "  error: 'Expected values to be strictly equal'\n" }],
      },
    });
    const result = score(dynamic(failing));
    expect(result.findings).toContainEqual(
      expect.objectContaining({
        ruleId: 'sandbox/test-failed',
        severity: 'high',
        message: 'Test failed: adds (Expected values to be strictly equal)',
      }),
    );
    expect(result.scores.quality).toBe(59);
    expect(result.explanations.quality.cap?.reason).toMatch(/layer 2/);
    expect(result.verdict.status).toBe('failed');
    expect(result.verdict.reasons).toContain('1 test(s) failed in the sandbox');
  });

  it('a limit hit is a finding with its remediation and fails the verdict', () => {
    const result = score(
      dynamic(run({ status: 'limit', limitHits: [{ limit: 'pids', step: 'test', detail: 'fork refused' }] })),
    );
    expect(result.findings).toContainEqual(
      expect.objectContaining({ ruleId: 'sandbox/limit-pids', remediation: expect.stringMatching(/pool/) }),
    );
    expect(result.verdict.reasons).toContain('the sandbox stopped the run at its pids limit');
  });

  it('without a sandbox the verdict is not assessed, never passed', () => {
    const result = score({ status: 'not_assessed', reason: 'no isolation available' });
    expect(result.scores.quality).toBe(100);
    expect(result.explanations.quality.notAssessed).toContain('dynamic tests not assessed: no isolation available');
    expect(result.verdict).toEqual({
      status: 'not_assessed',
      reasons: ['dynamic tests not assessed: no isolation available'],
    });
  });

  it('a project with no tests costs a medium finding but still passes', () => {
    const result = score(dynamic(run({ tests: { passed: 0, failed: 0, skipped: 0, failures: [] } })));
    expect(result.findings.map((f) => f.ruleId)).toEqual(['sandbox/no-tests']);
    expect(result.scores.quality).toBe(96);
    expect(result.verdict.status).toBe('passed');
  });
});

describe('scoring: injection findings and untyped dependencies', () => {
  const passingCompliance = complianceReport([control('CC6.1', 'pass', 'critical')]);

  it('a high injection finding fails the verdict even when every score passes', () => {
    const result = scoreValidation({
      static: staticReport([
        f('semgrep/qlp-eval-injection', 'semgrep', 'security', 'high', 'src/calc.ts', 4, { cwe: ['CWE-95'] }),
      ]),
      compliance: passingCompliance,
      thresholds: DEFAULT_THRESHOLDS,
    });
    expect(result.scores).toEqual({ overall: 96, security: 90, quality: 100, compliance: 100 });
    expect(result.verdict).toEqual({
      status: 'failed',
      reasons: [
        'injection finding(s) fail the verdict regardless of scores: semgrep/qlp-eval-injection at src/calc.ts:4',
      ],
    });
  });

  it('construct-only lint rules (new Function of a literal) and medium findings do not trip it', () => {
    const result = scoreValidation({
      static: staticReport([
        f('eslint/no-new-func', 'eslint', 'security', 'high', 'src/a.ts', 2, { cwe: ['CWE-95'] }),
        f('eslint/security/detect-child-process', 'eslint', 'security', 'medium', 'src/a.ts', 3, { cwe: ['CWE-78'] }),
      ]),
      compliance: passingCompliance,
      thresholds: DEFAULT_THRESHOLDS,
    });
    expect(result.verdict.status).toBe('passed');
  });

  it('diagnostics from untyped third-party packages are info: no quality cap, noted separately', () => {
    const result = scoreValidation({
      static: staticReport([
        f('TS2307', 'typescript', 'quality', 'medium', 'src/app.ts', 1, {
          message: "Cannot find module 'express' or its corresponding type declarations.",
        }),
        f('TS7006', 'typescript', 'quality', 'info', 'src/app.ts', 3, {
          message:
            "Parameter 'req' implicitly has an 'any' type. (its type would come from 'express': third-party declarations not installed for review)",
        }),
      ]),
      compliance: passingCompliance,
      thresholds: DEFAULT_THRESHOLDS,
    });
    expect(result.scores.quality).toBe(100);
    expect(result.explanations.quality.cap).toBeUndefined();
    expect(result.explanations.quality.notAssessed).toEqual([
      expect.stringMatching(/^type-check incomplete: 2 diagnostic\(s\) \(TS2307, TS7006\) .* \(express\)/),
    ]);
    expect(result.verdict.status).toBe('passed');
  });
});

describe('scoring end to end (static review, compliance, scores)', () => {
  const review = async (files: Record<string, string>) => {
    const project = projectFromFiles(Object.entries(files).map(([path, content]) => ({ path, content })));
    return scoreValidation({
      static: await runStaticReview(project, { intentId: 'e2e' }, { semgrep: { executable: null } }),
      compliance: await runCompliance(project, { intentId: 'e2e' }),
      thresholds: DEFAULT_THRESHOLDS,
    });
  };
  const manifest = JSON.stringify({ dependencies: { express: '^5.1.0' } });

  it('fails a project that builds a function from request input', async () => {
    const result = await review({
      'package.json': manifest,
      'src/calc.ts': [
        "import express from 'express';",
        'export const app = express();',
        "app.get('/calc', (req, res) => {",
        "  const f = new Function('x', `return ${req.query.expr}`);",
        '  res.json({ value: f(1) });',
        '});',
      ].join('\n'),
    });
    expect(result.verdict.status).toBe('failed');
    expect(result.verdict.reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^injection finding\(s\) .*dataflow\/code-injection at src\/calc\.ts:4/),
      ]),
    );
  });

  it('passes a clean file importing a package whose types are not installed', async () => {
    const result = await review({
      'package.json': manifest,
      'src/health.ts': [
        "import express from 'express';",
        'export const app = express();',
        "app.get('/health', (req, res) => {",
        "  res.json({ ok: true, path: req.path.length > 0 ? 'root' : 'other' });",
        '});',
      ].join('\n'),
    });
    expect(result.scores.quality).toBe(100);
    expect(result.verdict).toEqual({ status: 'passed', reasons: [] });
  });
});

describe('scoring counts findings, not lines', () => {
  // Five different weaknesses: eval of input, a shell command built from input, a hard-coded credential,
  // MD5 for passwords and a pseudo-random token. Once on five lines, once on one line.
  const statements = [
    'eval(String(req.query.code));',
    "exec('ls ' + req.query.dir);",
    "const dbPassword = 'Xk9mQ2vL7pZ4';",
    "const digest = createHash('md5').update(String(req.query.password)).digest('hex');",
    'res.end(digest + dbPassword + Math.random().toString(36));',
  ];
  const source = (body: string) =>
    [
      "import { exec } from 'node:child_process';",
      "import { createHash } from 'node:crypto';",
      "import http from 'node:http';",
      '',
      'http',
      '  .createServer((request, res) => {',
      "    const req = { query: Object.fromEntries(new URL(request.url ?? '/', 'http://x').searchParams) };",
      body,
      '  })',
      '  .listen(8080);',
      '',
    ].join('\n');

  async function score(body: string) {
    const project = projectFromFiles([{ path: 'src/server.ts', content: source(body) }]);
    const staticLayer = await runStaticReview(project, { intentId: 'i' }, { semgrep: { executable: null } });
    const compliance = await runCompliance(project, { intentId: 'i' });
    return scoreValidation({ static: staticLayer, compliance, thresholds: DEFAULT_THRESHOLDS });
  }

  it('five weaknesses on one line cost at least what they cost on five lines, and fail the verdict both ways', async () => {
    const spread = await score(statements.map((s) => `    ${s}`).join('\n'));
    const packed = await score(`    ${statements.join(' ')}`);
    const securityRules = (result: Awaited<ReturnType<typeof score>>) =>
      result.findings
        .filter((f) => f.category === 'security')
        .map((f) => f.ruleId)
        .sort();
    expect(securityRules(packed)).toEqual(securityRules(spread));
    expect(packed.scores.security!).toBeLessThanOrEqual(spread.scores.security!);
    expect(packed.scores.overall!).toBeLessThanOrEqual(spread.scores.overall!);
    expect(spread.verdict.status).toBe('failed');
    expect(packed.verdict.status).toBe('failed');
    expect(new Set(packed.findings.filter((f) => f.category === 'security').map((f) => f.location?.line)).size).toBe(1);
  });
});
