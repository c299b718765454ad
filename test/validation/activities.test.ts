import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { storeTaskFiles } from '../../adapters/storage/artifacts';
import { createValidationActivities } from '../../activities/validate';
import { BubblewrapSandbox, DEFAULT_LIMITS, SandboxSelector, type SandboxChoice } from '../../adapters/sandbox';
import {
  ComplianceReport,
  StaticReport,
  ValidationReport,
  type ValidationScoreSummary,
  DynamicReport,
} from '../../contracts/validation';
import { openStack, type TestStack } from '../support/stack';

// The validation activities on the test stack's real S3: a project with planted issues against a clean one.

/** Runs an activity in a mock activity context (heartbeats work), keeping its types. */
const runIn = <I, O>(env: MockActivityEnvironment, fn: (input: I) => Promise<O>, input: I): Promise<O> =>
  env.run(fn, input) as Promise<O>;

let stack: TestStack;
beforeAll(async () => {
  stack = await openStack('validation');
});
afterAll(async () => {
  await stack.close();
});

const cleanFiles = [
  {
    path: 'src/loans.ts',
    content: [
      'export interface Loan {',
      '  bookId: string;',
      '  memberId: string;',
      '  due: Date;',
      '}',
      '',
      'export function overdue(loans: Loan[], now: Date): Loan[] {',
      '  return loans.filter((loan) => loan.due.getTime() < now.getTime());',
      '}',
      '',
    ].join('\n'),
  },
  { path: 'README.md', content: '# loans\n\nTracks library book loans.\n' },
];

// Planted: TLS verification off and a hardcoded credential, in otherwise clean code.
const plantedFiles = [
  ...cleanFiles,
  {
    path: 'src/sync.ts',
    content: [
      "import https from 'node:https';",
      '',
      "const catalogueToken = 'k8Jd9sL2mQ7xV4nB6cZ1pR3tY5wE0uIq';",
      'const agent = new https.Agent({ rejectUnauthorized: false });',
      '',
      'export function fetchCatalogue(): Promise<number> {',
      '  return new Promise((resolve, reject) => {',
      "    https.get('https://catalogue.example.org/books', { agent, headers: { authorization: catalogueToken } }, (res) => resolve(res.statusCode ?? 0)).on('error', reject);",
      '  });',
      '}',
      '',
    ].join('\n'),
  },
];

async function validate(files: { path: string; content: string }[]) {
  const intentId = randomUUID();
  const artifacts = [await storeTaskFiles(stack.store, intentId, 'module', files)];
  const activities = createValidationActivities(stack.store, { semgrepPath: undefined });
  const env = new MockActivityEnvironment();
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => heartbeats.push(details));
  const staticSummary = await runIn(env, activities.staticReview, { intentId, artifacts });
  const complianceSummary = await runIn(env, activities.complianceReview, {
    intentId,
    artifacts,
    frameworks: ['SOC2', 'HIPAA'],
  });
  const score = await runIn(env, activities.scoreValidation, {
    intentId,
    static: staticSummary,
    compliance: complianceSummary,
  });
  return { intentId, artifacts, staticSummary, complianceSummary, score, heartbeats };
}

describe('validation activities on real S3', () => {
  let planted: Awaited<ReturnType<typeof validate>>;
  let clean: Awaited<ReturnType<typeof validate>>;

  beforeAll(async () => {
    [planted, clean] = [await validate(plantedFiles), await validate(cleanFiles)];
  });

  it('stores full reports next to the intent and returns only small summaries', async () => {
    const prefix = `intents/${planted.intentId}/reports`;
    expect(planted.staticSummary.reportKey).toBe(`${prefix}/static-review.json`);
    expect(planted.complianceSummary.reportKey).toBe(`${prefix}/compliance.json`);
    expect(planted.score).toMatchObject({
      reportKey: `${prefix}/validation-report.json`,
      sarifKey: `${prefix}/validation.sarif`,
    });
    StaticReport.parse(await stack.store.getJson(planted.staticSummary.reportKey));
    ComplianceReport.parse(await stack.store.getJson(planted.complianceSummary.reportKey));
    ValidationReport.parse(await stack.store.getJson(planted.score.reportKey));
    expect(JSON.parse((await stack.store.getBuffer(planted.score.sarifKey)).toString('utf8'))).toMatchObject({
      version: '2.1.0',
    });
    // Histories carry references and counts: every summary stays small whatever the project holds.
    for (const summary of [planted.staticSummary, planted.complianceSummary, planted.score])
      expect(JSON.stringify(summary).length).toBeLessThan(4_000);
    expect(planted.heartbeats.length).toBeGreaterThan(0);
  });

  it('fails the controls of the planted issues, with file:line evidence, a lower score and recommendations', async () => {
    expect(planted.complianceSummary.failedControls).toEqual(
      expect.arrayContaining(['SOC2 CC6.7', 'SOC2 CC6.1', 'HIPAA 164.312(e)(1)']),
    );
    const report = ComplianceReport.parse(await stack.store.getJson(planted.complianceSummary.reportKey));
    const cc67 = report.frameworks.find((f) => f.framework === 'SOC2')!.controls.find((c) => c.id === 'CC6.7')!;
    expect(cc67.evidence).toEqual([expect.objectContaining({ path: 'src/sync.ts', line: 4 })]);

    expect(planted.score.verdict).toBe('failed');
    expect(planted.score.scores.overall!).toBeLessThan(clean.score.scores.overall!);
    expect(planted.score.scores.security!).toBeLessThanOrEqual(40);
    expect(planted.score.topRecommendations.join('\n')).toMatch(/credential|TLS/i);

    const full = ValidationReport.parse(await stack.store.getJson(planted.score.reportKey));
    expect(full.recommendations.map((r) => r.ruleId)).toEqual(
      expect.arrayContaining(['compliance/tls-verification-disabled']),
    );
    expect(JSON.stringify(full)).not.toContain('k8Jd9sL2mQ7xV4nB6cZ1pR3tY5wE0uIq');
  });

  it('passes the clean project', () => {
    expect(clean.complianceSummary.failedControls).toEqual([]);
    expect(clean.score).toMatchObject<Partial<ValidationScoreSummary>>({
      verdict: 'passed',
      scores: { overall: 100, security: 100, quality: 100, compliance: 100 },
    });
    expect(clean.staticSummary.checks.find((c) => c.tool === 'llm')).toEqual({
      tool: 'llm',
      status: 'skipped',
      reason: 'no LLM configured (offline mode)',
      findingCount: 0,
    });
  });

  it('scores a layer that failed to run as not assessed, never as a pass', async () => {
    const activities = createValidationActivities(stack.store);
    const score = await runIn(new MockActivityEnvironment(), activities.scoreValidation, {
      intentId: clean.intentId,
      static: clean.staticSummary,
      compliance: { status: 'not_assessed', reason: 'compliance activity timed out' },
    });
    expect(score).toMatchObject({
      verdict: 'not_assessed',
      scores: { compliance: null, overall: null },
      reasons: ['compliance not assessed: compliance activity timed out'],
    });
  });

  it('reports an invalid tenant rules file as not assessed', async () => {
    const key = `tenants/acme/compliance-rules-${randomUUID()}.yaml`;
    await stack.store.put(key, 'version: 1\nrules:\n  - id: Nope\n');
    const activities = createValidationActivities(stack.store);
    const summary = await runIn(new MockActivityEnvironment(), activities.complianceReview, {
      intentId: clean.intentId,
      artifacts: clean.artifacts,
      customRulesKey: key,
    });
    expect(summary.customRules).toEqual({ status: 'invalid', count: 0 });
    const score = await runIn(new MockActivityEnvironment(), activities.scoreValidation, {
      intentId: clean.intentId,
      static: clean.staticSummary,
      compliance: summary,
    });
    expect(score.verdict).toBe('not_assessed');
  });

  it('keeps the original validateProject activity (type-check) working', async () => {
    const activities = createValidationActivities(stack.store);
    const summary = await runIn(new MockActivityEnvironment(), activities.validateProject, {
      intentId: clean.intentId,
      artifacts: clean.artifacts,
    });
    expect(summary).toEqual({
      typecheck: { status: 'passed', filesChecked: 1, errorCount: 0, firstErrors: [] },
      reportKey: `intents/${clean.intentId}/reports/validation.json`,
    });
    expect(await stack.store.getJson(summary.reportKey)).toEqual({
      layer: 'typecheck',
      status: 'passed',
      filesChecked: 1,
      diagnostics: [],
    });
  });
});

test('layer 2 without isolation is not assessed and looks again next time; a driver once found is kept', async () => {
  const intentId = randomUUID();
  const artifacts = [await storeTaskFiles(stack.store, intentId, 'module', cleanFiles)];
  const answers: SandboxChoice[] = [{ reason: 'no isolation available (test)' }, { driver: new BubblewrapSandbox() }];
  let asked = 0;
  const sandbox = new SandboxSelector(
    { driver: 'auto', limits: DEFAULT_LIMITS },
    async () => answers[Math.min(asked++, 1)]!,
  );
  const activities = createValidationActivities(stack.store, { sandbox });
  const input = { intentId, artifacts };

  expect(await runIn(new MockActivityEnvironment(), activities.dynamicValidation, input)).toEqual({
    status: 'not_assessed',
    reason: 'no isolation available (test)',
  });
  const ran = await runIn(new MockActivityEnvironment(), activities.dynamicValidation, input);
  expect(ran).toMatchObject({ status: 'assessed', driver: 'bubblewrap', outcome: 'passed' });
  await runIn(new MockActivityEnvironment(), activities.dynamicValidation, input);
  expect(asked).toBe(2);

  const report = DynamicReport.parse(await stack.store.getJson((ran as { reportKey: string }).reportKey));
  expect(report.run.steps.map((s) => `${s.step}:${s.status}`)).toEqual([
    'install:passed',
    'typecheck:skipped',
    'build:skipped',
    'test:passed',
  ]);
  expect(report.findings.map((f) => f.ruleId)).toEqual(['sandbox/no-tests']);
});
