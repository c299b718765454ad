import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar';
import { offlineLlmConfig } from '../adapters/llm/config';
import type { CapsuleManifest } from '../capsule/manifest';
import { renderRequirements } from '../cli/commands/validation';
import { renderIntent } from '../cli/format';
import type { RequirementCoverage } from '../contracts/requirements';
import { IntentView, ValidationReportView } from '../contracts/views';
import { call, decide } from './support/api';
import { eventually, openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';

// What was asked for against what was built, through the whole flow on real services: offline planning
// extracts the requirements, the catalogue builds what it can (with tests), layer 2 runs the tests in the
// sandbox, and scoring traces each requirement to code and a passing test. Auto-approval is on: only a
// verdict `passed` may skip the human, so an intent whose request was not built must stop at the gate.

let stack: TestStack;
let worker: RunningWorker;

beforeAll(async () => {
  stack = await openStack('requirements-e2e', (config) => ({ ...config, gate: { ...config.gate, autoApprove: true } }));
  worker = await startWorker(stack, { llm: offlineLlmConfig() });
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

async function validated(text: string) {
  const { body } = await call(`${stack.apiUrl}/intents`, { body: { text } });
  const intent = await eventually(async () => {
    const { body: current } = await call(`${stack.apiUrl}/intents/${body.id}`);
    return ['AWAITING_APPROVAL', 'COMPLETED', 'FAILED'].includes(current.status)
      ? IntentView.parse(current)
      : undefined;
  }, `${text} to reach the gate`);
  const response = await call(`${stack.apiUrl}/intents/${body.id}/validation`);
  expect(response.status).toBe(200);
  const report = ValidationReportView.parse(response.body);
  return { intent, report };
}

const row = (rows: RequirementCoverage[] | undefined, predicate: (r: RequirementCoverage) => boolean) => {
  const found = rows?.find(predicate);
  if (!found) throw new Error(`no such requirement in ${JSON.stringify(rows?.map((r) => r.id))}`);
  return found;
};
const byCapability = (rows: RequirementCoverage[] | undefined, capability: string) =>
  row(rows, (r) => r.capability === capability);

async function capsuleManifest(download: string): Promise<CapsuleManifest> {
  const response = await fetch(`${stack.apiUrl}${download.replace('/api/v1', '')}`, {
    headers: { authorization: `Bearer ${stack.keys.submitter}` },
  });
  const dir = await mkdtemp(join(tmpdir(), 'qlp-requirements-capsule-'));
  try {
    await writeFile(join(dir, 'capsule.tar.gz'), Buffer.from(await response.arrayBuffer()));
    await extract({ file: join(dir, 'capsule.tar.gz'), cwd: dir });
    return JSON.parse(await readFile(join(dir, 'capsule.json'), 'utf8')) as CapsuleManifest;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the HIPAA patient-records intent: each capability is traced to code and a passing test; the control HIPAA requires that was not built stops the gate', async () => {
  const text =
    'Build a HIPAA-compliant patient records API with authentication, audit logging and encryption of sensitive fields such as diagnosis and SSN.';
  const { intent, report } = await validated(text);
  const rows = report.requirements;
  console.log(renderRequirements(rows!).join('\n'));

  // Asked for and built, with tests that ran and passed in the sandbox.
  const authentication = byCapability(rows, 'authentication');
  expect(authentication).toMatchObject({ status: 'covered', coveredBy: ['module', 'check'] });
  expect(authentication.evidence[0]).toMatchObject({ path: 'src/app.ts' });
  expect(authentication.tests.filter((t) => t.status === 'passed').map((t) => t.name)).toContain(
    'a request without a bearer token is refused with 401 (authentication required)',
  );
  const audit = byCapability(rows, 'audit-logging');
  expect(audit.status).toBe('covered');
  expect(audit.evidence.map((e) => e.path)).toEqual(expect.arrayContaining(['src/audit.ts', 'src/app.ts']));
  expect(audit.tests[0]).toMatchObject({ status: 'passed', file: 'test/app.test.ts' });

  const encryption = byCapability(rows, 'encryption-at-rest');
  expect(encryption).toMatchObject({ status: 'covered', coveredBy: ['module', 'check'] });
  expect(encryption.evidence.map((e) => e.path)).toEqual(
    expect.arrayContaining(['src/field-crypto.ts', 'src/patient-record-store.ts']),
  );
  expect(encryption.tests[0]).toMatchObject({ status: 'passed', name: expect.stringMatching(/encrypted at rest/) });

  // HIPAA also requires transmission security, which the offline catalogue does not build: not covered,
  // and the verdict cannot be `passed`.
  const hipaa = row(rows, (r) => r.framework === 'HIPAA');
  expect(hipaa.status).toBe('not_covered');
  expect(hipaa.reason).toMatch(/164\.312\(e\)\(1\) \(requires TLS \(transport security\), and none was found/);

  const score = intent.validation!.score!;
  expect(intent.status).toBe('AWAITING_APPROVAL');
  expect(score.verdict).toBe('failed');
  expect(score.reasons).toContain(`requirement ${hipaa.id} (HIPAA) not covered`);
  expect(score.coverage).toMatchObject({
    counts: { covered: 4, notCovered: 1, notVerifiable: 0 },
    uncovered: [expect.objectContaining({ id: hipaa.id, framework: 'HIPAA' })],
  });
  expect(report.findings.map((f) => f.ruleId)).toEqual(
    expect.arrayContaining(['coverage/requirement-not-covered', 'compliance/requires-tls']),
  );

  // HIPAA is claimed: its required controls were checked for presence.
  const framework = report.frameworks.find((f) => f.framework === 'HIPAA')!;
  expect(framework.claimed).toBe(true);
  const control = (id: string) => framework.controls.find((c) => c.id === id)!;
  expect(control('164.312(d)').status).toBe('pass');
  expect(control('164.312(b)').status).toBe('pass');
  expect(control('164.312(a)(2)(iv)').status).toBe('pass');
  expect(control('164.312(e)(1)')).toMatchObject({ status: 'fail' });

  // The gate shows it, the CLI prints it, the capsule records it.
  expect(renderIntent(intent)).toMatch(/not covered R2 HIPAA: HIPAA controls fail: 164\.312\(e\)\(1\)/);
  await decide(
    stack.apiUrl,
    intent.id,
    { decision: 'approve', reason: 'TLS ends at the ingress' },
    stack.keys.approver,
  );
  const done = await eventually(async () => {
    const { body } = await call(`${stack.apiUrl}/intents/${intent.id}`);
    return body.status === 'COMPLETED' ? IntentView.parse(body) : undefined;
  }, 'the approved intent to be packaged');
  const manifest = await capsuleManifest(done.capsule!.download);
  expect(manifest.requirements?.find((r) => r.framework === 'HIPAA')).toMatchObject({
    status: 'not_covered',
    coveredBy: ['module', 'check'],
  });
  expect(manifest.requirements?.map((r) => r.id)).toEqual(['R1', 'R2', 'R3', 'R4', 'R5']);
  expect(manifest.requirements?.find((r) => r.capability === 'authentication')).toMatchObject({
    status: 'covered',
    coveredBy: ['module', 'check'],
  });
});

test('the webhook intent: HMAC verification and retries are built, each with a test that passed', async () => {
  const { intent, report } = await validated(
    'A webhook receiver that verifies HMAC signatures and forwards events to a queue, with retry and exponential backoff.',
  );
  const rows = report.requirements;
  console.log(renderRequirements(rows!).join('\n'));
  const hmac = byCapability(rows, 'hmac-verification');
  expect(hmac).toMatchObject({ status: 'covered', evidence: [expect.objectContaining({ path: 'src/webhook.ts' })] });
  expect(hmac.tests.find((t) => t.status === 'passed')).toMatchObject({ file: 'test/webhook.test.ts' });
  const retries = byCapability(rows, 'retries');
  expect(retries).toMatchObject({ status: 'covered', evidence: [expect.objectContaining({ path: 'src/worker.ts' })] });
  expect(retries.tests.map((t) => t.name)).toContain('retries a failing job with backoff until it succeeds');
  expect(intent.validation!.score!.coverage!.counts.notCovered).toBe(0);
  // Nothing asked for is missing: the verdict follows the other layers alone.
  expect(intent.validation!.score!.reasons.filter((r) => r.startsWith('requirement'))).toEqual([]);
});

test('a HIPAA intent without authentication fails the authentication and audit controls, and is not auto-approved', async () => {
  const { intent, report } = await validated('A HIPAA-compliant REST API for patients with name and diagnosis');
  const framework = report.frameworks.find((f) => f.framework === 'HIPAA')!;
  const control = (id: string) => framework.controls.find((c) => c.id === id)!;
  for (const id of ['164.312(d)', '164.312(a)(1)']) {
    expect(control(id).status).toBe('fail');
    expect(control(id).reason).toMatch(/requires authentication, and none was found/);
  }
  expect(control('164.312(b)').status).toBe('fail');
  expect(control('164.312(b)').reason).toMatch(/requires audit logging, and none was found/);
  expect(report.findings.map((f) => f.ruleId)).toEqual(
    expect.arrayContaining(['compliance/requires-authentication', 'compliance/requires-audit-logging']),
  );
  expect(row(report.requirements, (r) => r.framework === 'HIPAA').status).toBe('not_covered');
  expect(intent.status).toBe('AWAITING_APPROVAL');
  expect(intent.validation!.score!.verdict).toBe('failed');
  await decide(stack.apiUrl, intent.id, { decision: 'reject', reason: 'no authentication' }, stack.keys.approver);
});

test('a requested capability the catalogue does not build is not covered: the verdict is not passed and auto-approval stops', async () => {
  const { intent, report } = await validated('A REST API for books with title and author, with rate limiting');
  const rate = byCapability(report.requirements, 'rate-limiting');
  expect(rate).toMatchObject({ status: 'not_covered', coveredBy: [], evidence: [], tests: [] });
  expect(intent.status).toBe('AWAITING_APPROVAL');
  expect(intent.gate?.state).toBe('open');
  const score = intent.validation!.score!;
  expect(score.verdict).not.toBe('passed');
  expect(score.coverage!.uncovered).toEqual([
    expect.objectContaining({ id: rate.id, capability: 'rate-limiting', kind: 'control' }),
  ]);
  expect(score.scores.quality!).toBeLessThanOrEqual(90);
  expect(renderRequirements(report.requirements!).join('\n')).toMatch(
    new RegExp(`${rate.id}\\s+NOT COVERED\\s+control\\s+rate-limiting`),
  );
  await decide(stack.apiUrl, intent.id, { decision: 'reject', reason: 'cleanup' }, stack.keys.approver);
});
