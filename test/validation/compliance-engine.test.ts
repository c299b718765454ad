import type { ComplianceCheck } from '../../validation/compliance/check';
import { CHECKS } from '../../validation/compliance/checks';
import { evaluatePatternRule, parseCustomRules } from '../../validation/compliance/custom-rules';
import { buildContext } from '../../validation/compliance/ast';
import { runCompliance } from '../../validation/compliance/engine';
import { globToRegExp } from '../../validation/compliance/glob';
import { BUILT_IN_PACKS, loadPack } from '../../validation/compliance/packs';
import { builtInFrameworks, CustomRule } from '../../validation/compliance/schema';
import { projectFromFiles } from '../../validation/project';

const project = (files: Record<string, string>) =>
  projectFromFiles(Object.entries(files).map(([path, content]) => ({ path, content })));

const tlsOff = project({
  'src/client.ts': "import https from 'https';\nexport const agent = new https.Agent({ rejectUnauthorized: false });\n",
});
const clean = project({ 'src/math.ts': 'export const add = (a: number, b: number): number => a + b;\n' });

describe('rule packs', () => {
  it.each(builtInFrameworks)(
    '%s: every rule maps to listed controls, has a rationale and a built-in check; uncovered controls are listed',
    (id) => {
      const pack = BUILT_IN_PACKS[id];
      expect(pack.rules.length).toBeGreaterThanOrEqual(15);
      expect(pack.notCovered.length).toBeGreaterThan(5);
      for (const rule of pack.rules) {
        expect(CHECKS.has(rule.check)).toBe(true);
        expect(rule.rationale.length).toBeGreaterThan(40);
      }
    },
  );

  it('uses the control ids of each framework', () => {
    const ids = (id: (typeof builtInFrameworks)[number]) => BUILT_IN_PACKS[id].controls.map((c) => c.id);
    expect(ids('SOC2')).toEqual(expect.arrayContaining(['CC6.1', 'CC6.7', 'CC7.2']));
    expect(ids('HIPAA')).toEqual(expect.arrayContaining(['164.312(b)', '164.312(e)(1)', '164.312(a)(2)(iv)']));
    expect(ids('GDPR')).toEqual(expect.arrayContaining(['Art. 32(1)(a)', 'Art. 25(1)']));
    expect(ids('ISO27001')).toEqual(expect.arrayContaining(['A.8.24', 'A.8.28', 'A.8.15']));
  });

  it('refuses packs whose rules point at unknown controls or checks', () => {
    const pack = structuredClone(BUILT_IN_PACKS.SOC2);
    pack.rules[0]!.controls = ['CC99.9'];
    expect(() => loadPack(pack)).toThrow(/unknown control CC99\.9/);
    const unknownCheck = structuredClone(BUILT_IN_PACKS.SOC2);
    unknownCheck.rules[0]!.check = 'no-such-check';
    expect(() => loadPack(unknownCheck)).toThrow(/unknown checks: no-such-check/);
  });
});

describe('compliance engine', () => {
  it('fails the controls a finding maps to, with file:line evidence, in every framework', async () => {
    const report = await runCompliance(tlsOff, { intentId: 'i' });
    const control = (fw: string, id: string) =>
      report.frameworks.find((f) => f.framework === fw)!.controls.find((c) => c.id === id)!;
    expect(control('SOC2', 'CC6.7')).toMatchObject({
      status: 'fail',
      evidence: [{ ruleId: 'soc2.tls-verification-disabled', path: 'src/client.ts', line: 2 }],
    });
    expect(control('HIPAA', '164.312(e)(1)').status).toBe('fail');
    expect(control('ISO27001', 'A.8.20').status).toBe('fail');
    expect(control('GDPR', 'Art. 32(1)(b)').status).toBe('fail');
    expect(report.findings.find((f) => f.ruleId === 'compliance/tls-verification-disabled')!.controls).toEqual(
      expect.arrayContaining(['SOC2 CC6.7', 'HIPAA 164.312(e)(1)', 'ISO27001 A.8.20', 'GDPR Art. 32(1)(b)']),
    );
  });

  it('passes applicable controls and marks the rest not applicable on clean code', async () => {
    const report = await runCompliance(clean, { intentId: 'i' });
    expect(report.findings).toEqual([]);
    for (const framework of report.frameworks) {
      expect(framework.status).toBe('pass');
      expect(framework.counts.fail).toBe(0);
      expect(framework.counts.pass).toBeGreaterThan(0); // secrets in code apply to any project
      expect(framework.counts.notApplicable).toBeGreaterThan(0); // no routes, no database, no network here
      expect(framework.notCovered.length).toBeGreaterThan(0);
    }
    const soc2 = report.frameworks.find((f) => f.framework === 'SOC2')!;
    expect(soc2.controls.find((c) => c.id === 'CC7.2')).toMatchObject({
      status: 'not_applicable',
      reason: expect.any(String),
    });
  });

  it('runs only the selected frameworks', async () => {
    const report = await runCompliance(clean, { intentId: 'i' }, { frameworks: ['HIPAA'] });
    expect(report.frameworks.map((f) => f.framework)).toEqual(['HIPAA']);
  });

  it('marks controls not assessed, never passed, when a check crashes', async () => {
    const crashing: ComplianceCheck = {
      ...CHECKS.get('tls-verification-disabled')!,
      run: () => Promise.reject(new Error('parser exploded')),
    };
    const checks = new Map(CHECKS);
    checks.set(crashing.id, crashing);
    const report = await runCompliance(tlsOff, { intentId: 'i' }, { frameworks: ['SOC2'], checks });
    const cc67 = report.frameworks[0]!.controls.find((c) => c.id === 'CC6.7')!;
    expect(cc67).toMatchObject({ status: 'not_assessed', reason: expect.stringContaining('parser exploded') });
    expect(report.checkErrors).toEqual([{ check: 'check:tls-verification-disabled', reason: 'parser exploded' }]);
    expect(report.frameworks[0]!.status).toBe('not_assessed');
  });
});

describe('tenant custom rules', () => {
  const yaml = `
version: 1
frameworks: [SOC2]
rules:
  - id: no-console-in-handlers
    title: console logging in request handlers
    severity: low
    rationale: Production logs go through the structured logger.
    remediation: Use the request logger.
    controls:
      SOC2: [CC7.2]
      ACME-SEC: [LOG-1]
    match:
      pattern: 'console\\.(log|info)\\('
      files: ['src/**/*.ts']
      unless: 'eslint-disable no-console'
  - id: tls-everywhere
    title: TLS verification stays on
    severity: high
    rationale: Company policy.
    remediation: Remove the override.
    controls:
      ACME-SEC: [NET-2]
    check: tls-verification-disabled
`;

  it('parses YAML, joins selected frameworks, defines tenant frameworks, and reuses built-in checks', async () => {
    const parsed = parseCustomRules(yaml);
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    const files = project({
      'src/a.ts':
        "console.log('hi');\nimport https from 'https';\nexport const agent = new https.Agent({ rejectUnauthorized: false });\n",
    });
    const report = await runCompliance(files, { intentId: 'i' }, { customRules: parsed.file });
    expect(report.frameworks.map((f) => f.framework)).toEqual(['SOC2', 'ACME-SEC']);
    expect(report.customRules).toEqual({ status: 'loaded', count: 2, errors: [] });
    const soc2 = report.frameworks[0]!;
    expect(soc2.controls.find((c) => c.id === 'CC7.2')).toMatchObject({
      status: 'fail',
      rules: expect.arrayContaining(['custom.no-console-in-handlers']),
    });
    const acme = report.frameworks[1]!;
    expect(acme.controls.map((c) => [c.id, c.status])).toEqual([
      ['LOG-1', 'fail'],
      ['NET-2', 'fail'],
    ]);
    expect(report.findings.map((f) => f.ruleId)).toEqual(
      expect.arrayContaining(['compliance/custom/no-console-in-handlers']),
    );
  });

  it('reports invalid files with the field at fault', () => {
    const parsed = parseCustomRules('version: 1\nrules:\n  - id: Bad_Id\n    title: x\n    severity: urgent\n');
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^rules\.0\.id: /),
        expect.stringMatching(/^rules\.0\.severity: /),
      ]),
    );
    expect(parseCustomRules('{{{ not yaml').ok).toBe(false);
  });

  it('refuses regular expressions prone to catastrophic backtracking', () => {
    const rule = {
      id: 'r',
      title: 'rule',
      severity: 'low',
      rationale: 'r',
      remediation: 'r',
      controls: { SOC2: ['CC7.2'] },
    };
    expect(CustomRule.safeParse({ ...rule, match: { pattern: '(a+)+$' } }).success).toBe(false);
    expect(CustomRule.safeParse({ ...rule, match: { pattern: '(\\w)\\1' } }).success).toBe(false);
    expect(CustomRule.safeParse({ ...rule, match: { pattern: '[' } }).success).toBe(false);
    expect(CustomRule.safeParse({ ...rule, match: { pattern: 'console\\.log' } }).success).toBe(true);
    expect(CustomRule.safeParse({ ...rule, match: { pattern: 'x' }, check: 'pii-in-logs' }).success).toBe(false);
  });

  it('reports an invalid tenant file as not assessed', async () => {
    const report = await runCompliance(clean, { intentId: 'i' }, { customRulesErrors: ['rules.0.id: bad'] });
    expect(report.customRules).toEqual({ status: 'invalid', count: 0, errors: ['rules.0.id: bad'] });
  });

  it('applies a pattern rule only where appliesIf matches', () => {
    const rule = CustomRule.parse({
      id: 'r',
      title: 'no TODO in payment code',
      severity: 'low',
      rationale: 'r',
      remediation: 'r',
      controls: { SOC2: ['CC7.2'] },
      match: { pattern: 'TODO', appliesIf: 'stripe' },
    });
    const ctx = buildContext(project({ 'src/pay.ts': "import 'stripe';\n// TODO\n", 'src/other.ts': '// TODO\n' }));
    expect(evaluatePatternRule(ctx, rule)).toEqual({
      applicable: true,
      hits: [{ path: 'src/pay.ts', line: 2, message: 'no TODO in payment code' }],
    });
  });

  it('matches globs like a shell', () => {
    expect(globToRegExp('src/**/*.ts').test('src/a/b/c.ts')).toBe(true);
    expect(globToRegExp('src/**/*.ts').test('src/c.ts')).toBe(true);
    expect(globToRegExp('src/*.ts').test('src/a/c.ts')).toBe(false);
    expect(globToRegExp('**/*.{js,ts}').test('lib/x.js')).toBe(true);
  });
});
