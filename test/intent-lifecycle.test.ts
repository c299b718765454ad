import { createHash, randomUUID } from 'node:crypto';
import type { CapsuleManifest } from '../capsule/manifest';
import { trustedKeysFrom, verifyCapsule } from '../capsule/verify';
import { IntentPage, IntentView } from '../contracts/views';
import { call, decide as decideAs } from './support/api';
import { approvedAuditTrail } from './support/audit';
import { approverKey, eventually, openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';

let stack: TestStack;
let worker: RunningWorker;

beforeAll(async () => {
  stack = await openStack('lifecycle');
  worker = await startWorker(stack);
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function submit(text: string, headers: Record<string, string> = {}) {
  const response = await call(`${stack.apiUrl}/intents`, { body: { text }, headers });
  expect(response.status).toBe(202);
  return response;
}

async function waitForStatus(id: string, status: string) {
  return eventually(async () => {
    const { body } = await call(`${stack.apiUrl}/intents/${id}`);
    return body.status === status ? body : undefined;
  }, `intent ${id} to reach ${status}`);
}

/** Decides as the approver named (a key of that name), bound to the digest the gate shows. */
async function decide(
  id: string,
  { approver, ...decision }: { decision: 'approve' | 'reject'; approver: string; reason?: string },
) {
  return decideAs(stack.apiUrl, id, decision, await approverKey(stack, approver));
}

test('an approved intent produces a capsule whose manifest checksums match its files', async () => {
  const submitted = await submit('Build an inventory tracker for warehouse pallets');
  const id: string = submitted.body.id;
  expect(submitted.headers.get('location')).toBe(`/api/v1/intents/${id}`);
  expect(submitted.body.links.temporalUi).toContain(`/workflows/intent-${id}`);

  const waiting = IntentView.parse(await waitForStatus(id, 'AWAITING_APPROVAL'));
  expect(waiting.tasks!.map((t) => [t.id, t.status])).toEqual([
    ['module', 'COMPLETED'],
    ['check', 'COMPLETED'],
    ['readme', 'COMPLETED'],
  ]);
  expect(waiting.validation?.typecheck).toMatchObject({ status: 'passed', errorCount: 0, filesChecked: 5 });
  expect(waiting.gate).toMatchObject({ state: 'open', required: 1, approvals: [], selfApproval: false });
  expect(waiting.gate?.digest).toMatch(/^[0-9a-f]{64}$/);
  // The gate opened with its QuantumDrop: every file new in v1, and what validation found.
  expect(waiting.gate?.drop).toMatchObject({ gate: 'release', version: 1 });
  const drop = await call(`${stack.apiUrl}/intents/${id}/drops/release`);
  expect(drop.status).toBe(200);
  expect(drop.body).toMatchObject({ intentId: id, version: 1, reviewDigest: waiting.gate?.digest });
  expect(drop.body.changes.map((c: { status: string }) => c.status)).toEqual(
    Array(drop.body.changes.length).fill('added'),
  );

  const approved = await decide(id, { decision: 'approve', approver: 'ops@example.com', reason: 'looks right' });
  expect(approved.status).toBe(200);
  expect(approved.body.decision).toMatchObject({ decision: 'approve', approver: 'ops@example.com', via: 'update' });

  const done = await waitForStatus(id, 'COMPLETED');
  expect(IntentView.safeParse(done).error).toBeUndefined(); // the response matches its published contract
  expect(done.capsule.location).toBe(`s3://${stack.config.s3.bucket}/capsules/${id}/${id}-v1.tar.gz`);

  const download = await fetch(`${stack.apiUrl}${done.capsule.download.replace('/api/v1', '')}`, {
    headers: { authorization: `Bearer ${stack.keys.submitter}` },
  });
  expect(download.status).toBe(200);
  const archive = Buffer.from(await download.arrayBuffer());
  expect(sha256(archive)).toBe(download.headers.get('x-checksum-sha256'));
  expect(sha256(archive)).toBe(done.capsule.sha256);

  // Signed (capsule v2): it verifies offline with the keys the API serves, and says who approved what.
  const keys = await call(`${stack.apiUrl}/signing-keys`);
  const { result, entries } = await verifyCapsule(archive, { trustedKeys: trustedKeysFrom(keys.body) });
  expect(result).toMatchObject({ status: 'verified', format: 'quantumcapsule/v2', capsuleId: done.capsule.id });
  expect(result.errors).toEqual([]);
  const read = (path: string) => JSON.parse(entries!.get(path)!.toString('utf8'));
  const manifest = read('capsule.json') as CapsuleManifest;
  expect(manifest).toMatchObject({ format: 'quantumcapsule/v2', id: done.capsule.id, intentId: id, version: 1 });
  expect(manifest.signing.keyId).toBe(result.signedBy[0]);
  expect(manifest.approval).toMatchObject({ decision: 'approve', approver: 'ops@example.com', reason: 'looks right' });
  expect(manifest.approval.digest).toBe(waiting.gate?.digest);
  expect(manifest.review?.review).toBe(waiting.gate?.digest);
  expect(manifest.metadata).toMatchObject({
    name: expect.any(String),
    technologies: expect.arrayContaining(['TypeScript']),
    qualityScore: expect.any(Number),
    tags: [],
  });
  expect(manifest.files.map((f) => f.path).sort()).toEqual(
    [
      'approval.json',
      'compliance-report.html',
      'compliance-report.md',
      'files/README.md',
      'files/package.json',
      'files/src/index.ts',
      'files/src/queries.ts',
      'files/src/warehouse-pallet-store.ts',
      'files/src/warehouse-pallet.ts',
      'files/test/warehouse-pallet.test.ts',
      'files/tsconfig.json',
      'provenance.intoto.json',
      'reports/dynamic.json',
      'reports/validation-report.json',
      'reports/validation.json',
      'reports/validation.sarif',
      'sbom.cdx.json',
    ].sort(),
  );
  const approval = read('approval.json');
  expect(approval).toMatchObject({
    decision: 'approve',
    digest: waiting.gate?.digest,
    authenticated: true,
    policy: { required: 1, selfApproval: false },
  });
  expect(approval.approvers).toEqual([
    expect.objectContaining({ name: 'ops@example.com', roles: ['approver'], method: 'api-key', via: 'update' }),
  ]);
  const provenance = read('provenance.intoto.json');
  expect(provenance).toMatchObject({
    _type: 'https://in-toto.io/Statement/v1',
    predicateType: 'https://slsa.dev/provenance/v1',
  });
  expect(provenance.predicate.runDetails.metadata.invocationId).toMatch(new RegExp(`^${done.workflowId}/`));

  const audit = await stack.db.auditEvent.findMany({ where: { intentId: id }, orderBy: { id: 'asc' } });
  expect(audit.map((e) => e.type)).toEqual(approvedAuditTrail);
  expect(audit.find((e) => e.type === 'intent.approved')?.actor).toBe('ops@example.com');
});

test('the Temporal Web UI can find an intent by status and shows its summary', async () => {
  const { body } = await submit('A CLI tool to track nightly sales reports');
  await waitForStatus(body.id, 'AWAITING_APPROVAL');
  const handle = stack.temporal.workflow.getHandle(body.workflowId);
  const description = await handle.describe();
  expect(await description.staticSummary()).toBe('Intent: A CLI tool to track nightly sales reports');
  // The open gate: named in the current details with what to send, and its timer says what it is for.
  const { currentDetails } = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
  expect(currentDetails).toMatch(
    /\*\*Gate `release` is open\*\* \(version 1 of at most 3\); rejects at \S+ unless decided\./,
  );
  expect(currentDetails).toContain(`qlp approve ${body.id} --token`);
  const events = (await handle.fetchHistory()).events ?? [];
  const timer = events.find((event) => event.timerStartedEventAttributes);
  const summary = timer?.userMetadata?.summary?.data;
  expect(summary && JSON.parse(Buffer.from(summary).toString('utf8'))).toMatch(
    /^release gate: rejects at \S+ unless decided$/,
  );
  const listed = await eventually(async () => {
    const found = [];
    for await (const wf of stack.temporal.workflow.list({
      query: `WorkflowId = '${body.workflowId}' AND QlpStatus = 'AWAITING_APPROVAL' AND QlpGatePending = true`,
    })) {
      found.push(wf.workflowId);
    }
    return found.length ? found : undefined;
  }, 'visibility to index the search attributes');
  expect(listed).toEqual([body.workflowId]);
  // The README's "Intents (no tasks)" view: the intent, none of its task children.
  const intentsOnly = [];
  for await (const wf of stack.temporal.workflow.list({
    query: `WorkflowType = 'intentWorkflow' AND WorkflowId STARTS_WITH '${body.workflowId}'`,
  })) {
    intentsOnly.push(wf.workflowId);
  }
  expect(intentsOnly).toEqual([body.workflowId]);
  const children = [];
  for await (const wf of stack.temporal.workflow.list({ query: `ParentWorkflowId = '${body.workflowId}'` })) {
    children.push(wf.workflowId);
  }
  expect(children.sort()).toEqual(['check', 'module', 'readme'].map((t) => `${body.workflowId}/task-${t}`));
  await decide(body.id, { decision: 'reject', approver: 'ops', reason: 'test cleanup' });
});

test('a rejected intent produces no capsule and records who rejected it and why', async () => {
  const { body } = await submit('Generate a billing export job');
  await waitForStatus(body.id, 'AWAITING_APPROVAL');

  const rejected = await decide(body.id, {
    decision: 'reject',
    approver: 'security@example.com',
    reason: 'no PCI review',
  });
  expect(rejected.status).toBe(200);

  const done = await waitForStatus(body.id, 'REJECTED');
  expect(done.statusReason).toBe('no PCI review');
  expect(done.gate).toMatchObject({
    state: 'decided',
    decision: { decision: 'reject', approver: 'security@example.com', reason: 'no PCI review' },
  });
  expect(done.capsule).toBeNull();
  expect(await stack.db.capsule.count({ where: { intentId: body.id } })).toBe(0);
  expect(await stack.store.stat(`capsules/${body.id}/${body.id}-v1.tar.gz`)).toBeUndefined();
  expect(await stack.temporal.workflow.getHandle(body.workflowId).result()).toEqual({
    status: 'REJECTED',
    reason: 'no PCI review',
  });
});

test('a retried submission with the same Idempotency-Key returns the same intent and starts nothing new', async () => {
  const key = `retry-${randomUUID()}`;
  const text = 'A REST API for short links with url and slug';
  const first = await submit(text, { 'Idempotency-Key': key });
  const [second, third] = await Promise.all([
    submit(text, { 'Idempotency-Key': key }),
    submit(text, { 'Idempotency-Key': key }),
  ]);
  expect(second.body.id).toBe(first.body.id);
  expect(third.body.id).toBe(first.body.id);
  expect(second.headers.get('idempotent-replayed')).toBe('true');
  expect(await stack.db.intent.count({ where: { idempotencyKey: key } })).toBe(1);

  const runs = [];
  for await (const wf of stack.temporal.workflow.list({ query: `WorkflowId = '${first.body.workflowId}'` })) {
    runs.push(wf.runId);
  }
  expect(runs).toHaveLength(1);

  const reused = await call(`${stack.apiUrl}/intents`, {
    body: { text: 'Something else entirely' },
    headers: { 'Idempotency-Key': key },
  });
  expect(reused.status).toBe(422);
  expect(reused.body.errors).toEqual([
    { field: 'header.idempotency-key', reason: 'already used with a different request body' },
  ]);

  await waitForStatus(first.body.id, 'AWAITING_APPROVAL');
  await decide(first.body.id, { decision: 'reject', approver: 'ops', reason: 'test cleanup' });
});

test('intents are listed newest first, a page at a time, and the OpenAPI document describes the routes', async () => {
  const first = await call(`${stack.apiUrl}/intents?limit=2`);
  expect(first.status).toBe(200);
  const page = IntentPage.parse(first.body);
  expect(page.items).toHaveLength(2);
  expect(page.nextCursor).not.toBeNull();
  const second = IntentPage.parse((await call(`${stack.apiUrl}/intents?limit=2&cursor=${page.nextCursor}`)).body);
  const seen = [...page.items, ...second.items].map((i) => i.createdAt);
  expect(seen).toEqual([...seen].sort().reverse());
  expect(new Set([...page.items, ...second.items].map((i) => i.id)).size).toBe(page.items.length + second.items.length);

  const { body: spec } = await call(`${stack.apiUrl}/openapi.json`);
  expect(spec.openapi).toBe('3.1.0');
  expect(Object.keys(spec.paths).sort()).toEqual([
    '/audit',
    '/capsules',
    '/capsules/verify',
    '/capsules/{id}',
    '/capsules/{id}/download',
    '/codec/decode',
    '/codec/encode',
    '/health',
    '/intents',
    '/intents/{id}',
    '/intents/{id}/cancel',
    '/intents/{id}/decision',
    '/intents/{id}/decision-token',
    '/intents/{id}/drops/{gate}',
    '/intents/{id}/similar',
    '/intents/{id}/validation',
    '/keys',
    '/keys/{id}',
    '/llm/stats',
    '/metrics',
    '/signing-keys',
    '/status',
    '/webhooks',
    '/webhooks/{id}',
    '/webhooks/{id}/deliveries',
    '/webhooks/{id}/deliveries/{delivery}/redeliver',
    '/whoami',
  ]);
  // Every operation but health needs a bearer credential.
  const operations = Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.values(methods as Record<string, { security?: unknown }>).map((op) => [path, Boolean(op.security)]),
  );
  expect(operations.filter(([, secured]) => !secured).map(([path]) => path)).toEqual(['/health']);
  expect(spec.components.schemas.SubmitIntentRequest.required).toEqual(['text']);
});

test('every intent gets scores and findings: in the API, as SARIF, and as Web UI search attributes', async () => {
  const { body } = await submit('A REST API for tasks with title and done');
  const waiting = IntentView.parse(await waitForStatus(body.id, 'AWAITING_APPROVAL'));
  const score = waiting.validation!.score!;
  // The offline catalogue's own projects must pass our own validation.
  expect({ verdict: score.verdict, reasons: score.reasons }).toEqual({ verdict: 'passed', reasons: [] });
  for (const value of Object.values(score.scores)) expect(value === null || (value >= 0 && value <= 100)).toBe(true);
  expect(waiting.validation!.static).toMatchObject({ status: 'assessed' });
  expect(waiting.validation!.compliance).toMatchObject({ status: 'assessed' });

  const report = await call(`${stack.apiUrl}/intents/${body.id}/validation`);
  expect(report.status).toBe(200);
  expect(report.body).toMatchObject({ intentId: body.id, scores: score.scores, verdict: { status: score.verdict } });
  expect(report.body.frameworks.map((f: { framework: string }) => f.framework).sort()).toEqual([
    'GDPR',
    'HIPAA',
    'ISO27001',
    'SOC2',
  ]);

  const sarif = await call(`${stack.apiUrl}/intents/${body.id}/validation?format=sarif`);
  expect(sarif.headers.get('content-type')).toMatch(/^application\/sarif\+json/);
  expect(sarif.body.version).toBe('2.1.0');

  const overall = score.scores.overall;
  const query =
    `WorkflowId = '${body.workflowId}' AND QlpValidation = '${score.verdict}'` +
    (overall === null ? '' : ` AND QlpScoreOverall = ${overall}`);
  const found = await eventually(async () => {
    for await (const wf of stack.temporal.workflow.list({ query })) return wf.workflowId;
    return undefined;
  }, 'the scores to be searchable');
  expect(found).toBe(body.workflowId);

  const unknown = await call(`${stack.apiUrl}/intents/${randomUUID()}/validation`);
  expect(unknown.status).toBe(404);
  await decide(body.id, { decision: 'reject', approver: 'ops', reason: 'test cleanup' });
});
