import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { planKey } from '../adapters/storage/artifacts';
import { loadConfig } from '../config';
import type { Plan } from '../contracts/plan';
import { findTool } from '../scripts/services/tools';
import { call } from './support/api';
import { uniqueTenant } from './support/authz-helpers';
import { runQlp } from './support/cli-run';
import {
  createStackKeys,
  eventually,
  openStack,
  startWorker,
  type RunningWorker,
  type StackKeys,
  type TestStack,
} from './support/stack';
import { always, WebhookReceiver } from './support/webhook-receiver';

// The gates as the docs describe them (README, docs/gates.md, docs/webhooks.md, docs/quantum-drops.md,
// docs/security.md), exercised from outside: the qlp CLI, the REST API, an unsigned `decision` signal
// sent with the temporal CLI, a webhook receiver, and per-tenant policies set the way ops set them
// (TENANT_POLICIES). Offline catalogue; each scenario has a tenant of its own. Tests that fail here show
// where the product and the docs disagree (issue 16): the plan gate's view, plan.ready and the plan gate's
// gate.decided with a plan gate, and what an intent.decision_ignored event records.

/** Plan review asked for at submission; the CLI, request changes and webhooks. */
const MAIN = uniqueTenant('hitl-out');
/** PLAN_GATE=auto with a threshold no offline plan reaches: straight to the release gate; the unsigned signal. */
const SIGNAL = uniqueTenant('hitl-sig');
/** PLAN_GATE=auto from one task (every plan), and one version only (GATE_MAX_VERSIONS=1). */
const ONE = uniqueTenant('hitl-one');

let stack: TestStack;
let worker: RunningWorker;
const keys: Record<string, StackKeys> = {};
const keysOf = (tenant: string): StackKeys => keys[tenant]!;
const receiver = new WebhookReceiver();
let origin: string;

beforeAll(async () => {
  await receiver.start();
  stack = await openStack('hitl-outsider', (base) => ({
    // As an operator configures a deployment: environment variables only.
    ...loadConfig({
      ...process.env,
      TENANT_POLICIES: JSON.stringify({
        [SIGNAL]: { planGate: 'auto', planGateMinTasks: 1000 },
        [ONE]: { planGate: 'auto', planGateMinTasks: 1, maxVersions: 1 },
      }),
      // The receiver is on 127.0.0.1 over http.
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    }),
    temporal: base.temporal,
  }));
  origin = stack.apiUrl.replace(/\/api\/v1$/, '');
  for (const tenant of [MAIN, SIGNAL, ONE]) keys[tenant] = await createStackKeys(stack.db, tenant, tenant);
  worker = await startWorker(stack);
});

afterAll(async () => {
  await worker?.stop();
  await receiver.stop();
  await stack?.close();
});

const intentUrl = (id: string) => `${stack.apiUrl}/intents/${id}`;
const view = async (tenant: string, id: string) =>
  (await call(intentUrl(id), { token: keysOf(tenant).submitter })).body;

/** Submits through the API as the tenant's submitter; fails unless accepted. */
async function submit(tenant: string, body: Record<string, unknown>): Promise<string> {
  const response = await call(`${stack.apiUrl}/intents`, {
    body: { tenant, ...body },
    token: keysOf(tenant).submitter,
  });
  expectStatus(response, 202);
  return response.body.id as string;
}

/** A decision as the tenant's approver, bound to the digest the open gate shows (unless the body names one). */
async function decide(tenant: string, id: string, body: Record<string, unknown>) {
  const digest = (await view(tenant, id)).gate?.digest;
  return call(`${intentUrl(id)}/decision`, { body: { digest, ...body }, token: keysOf(tenant).approver });
}

/** Waits until the gate the test expects is open, failing at once if the intent ended instead. */
function untilGate(tenant: string, id: string, predicate: (gate: any) => boolean): Promise<any> {
  return eventually(async () => {
    const intent = await view(tenant, id);
    if (['FAILED', 'REJECTED', 'COMPLETED', 'CANCELLED'].includes(intent.status)) {
      throw new Error(`intent ${id} ended ${intent.status}: ${intent.statusReason ?? intent.reason}`);
    }
    return intent.status === 'AWAITING_APPROVAL' && predicate(intent.gate) ? intent : undefined;
  }, `intent ${id}'s gate`);
}

/** Waits until the intent ended, returning its view. */
const untilEnded = (tenant: string, id: string): Promise<any> =>
  eventually(async () => {
    const intent = await view(tenant, id);
    return ['FAILED', 'REJECTED', 'COMPLETED', 'CANCELLED'].includes(intent.status) ? intent : undefined;
  }, `intent ${id} to end`);

/** The real `qlp`, against the test API, as `token`. */
const qlp = (args: string[], token: string) => runQlp(args, { QLP_API_URL: origin, QLP_TOKEN: token });

/** The `temporal` CLI, as ops run it against the stack's server; its exit code and output. */
function temporalCli(args: string[]): Promise<{ code: number | null; output: string }> {
  const binary = findTool('temporal', join(__dirname, '..', '.tools'));
  if (!binary) throw new Error('the temporal CLI is not installed (.tools/venv/bin/temporal or PATH)');
  const address = ['--address', stack.config.temporal.address, '--namespace', stack.config.temporal.namespace];
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [...args, ...address], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The unsigned `decision` signal the Web UI or `temporal workflow signal` sends (docs/security.md). */
const signalDecision = (workflowId: string, decision: Record<string, unknown>) =>
  temporalCli([
    'workflow',
    'signal',
    '--workflow-id',
    workflowId,
    '--name',
    'decision',
    '--input',
    JSON.stringify(decision),
  ]);

/** Fails with the problem document when the API answered another status than expected. */
function expectStatus(response: { status: number; body: unknown }, status: number): void {
  if (response.status !== status) {
    throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  }
}

/** Field names of a 400 problem document. */
const fields = (body: any): string[] => (body?.errors ?? []).map((e: { field: string }) => e.field);

/** Webhook events the receiver accepted for one intent, oldest first (deliveries may arrive in any order). */
const eventsOf = (endpoint: string, intentId: string, type: string): any[] =>
  [...receiver.accepted(endpoint).values()]
    .filter((e) => e.intentId === intentId && e.type === type)
    .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));

/** What the main scenario leaves for the webhook checks that follow it. */
const main: {
  id?: string;
  v1Digest?: string;
  v2Digest?: string;
  task?: string;
  taskIds?: string[];
  subscription?: string;
  planApprovedAudit?: any;
  reached: string[];
} = { reached: [] };

/** Fails at once (instead of waiting for events that will not come) when the scenario stopped before `step`. */
function requireStep(step: string): string {
  if (!main.id || !main.reached.includes(step)) throw new Error(`the scenario above did not reach '${step}'`);
  return main.id;
}
const TASK_COMMENT = 'name the exported types after the pallets domain';
const FILE_COMMENT = 'add a header comment';

test('a submission asking for plan review with anything but a boolean is a 400 naming body.planReview', async () => {
  const response = await call(`${stack.apiUrl}/intents`, {
    body: { tenant: MAIN, text: 'A REST API for books with title and author', planReview: 'yes' },
    token: keysOf(MAIN).submitter,
  });
  expectStatus(response, 400);
  expect(fields(response.body)).toContain('body.planReview');
});

test('plan review through the CLI; bad decisions are 400s naming the field; qlp request-changes → v2 in status and review; approve v2', async () => {
  // Webhooks first, so every gate event of the intent reaches the receiver.
  const url = receiver.endpoint('main', always(204));
  const subscribed = await call(`${stack.apiUrl}/webhooks`, {
    body: { url, events: ['plan.ready', 'gate.opened', 'gate.decided', 'capsule.ready'], tenant: MAIN },
    token: keysOf(MAIN).admin,
  });
  expectStatus(subscribed, 201);
  receiver.setSecret('main', subscribed.body.secret);
  main.subscription = subscribed.body.id;

  const submitted = await qlp(
    ['submit', 'Build an inventory tracker for warehouse pallets', '--plan-review', '--tenant', MAIN, '--json'],
    keysOf(MAIN).submitter,
  );
  expect(submitted).toMatchObject({ code: 0 });
  const id = JSON.parse(submitted.stdout).id as string;
  main.id = id;

  // The plan gate: a planEdit naming a task the plan does not have is refused, and nothing is recorded.
  const atPlan = await untilGate(MAIN, id, (gate) => gate?.id === 'plan');
  // Workaround: neither the intent view nor plan.ready shows the plan at the plan gate (see the last test),
  // so the task ids come from the stored plan in S3, which a user cannot read.
  const plan = await stack.store.getJson<Plan>(planKey(id));
  const taskIds = plan.tasks.map((t) => t.id);
  main.taskIds = taskIds;
  expect(taskIds.length).toBeGreaterThan(0);
  const unknown = await decide(MAIN, id, { decision: 'approve', planEdit: { remove: ['no-such-task'] } });
  expectStatus(unknown, 400);
  expect(JSON.stringify(unknown.body)).toContain('no-such-task');
  const stillOpen = await view(MAIN, id);
  expect(stillOpen.gate).toMatchObject({ id: 'plan', state: 'open', digest: atPlan.gate.digest });
  expect(stillOpen.gate.approvals ?? []).toHaveLength(0);

  // Approved with a reworded task: the webhook for the plan gate carries the edit (checked below).
  main.task = taskIds[0];
  const reworded = { task: main.task, description: 'reworded by the plan reviewer' };
  expectStatus(await decide(MAIN, id, { decision: 'approve', planEdit: { describe: [reworded] } }), 200);

  main.reached.push('plan approved');
  const audit = await call(`${stack.apiUrl}/audit?intent=${id}`, { token: keysOf(MAIN).auditor });
  expectStatus(audit, 200);
  main.planApprovedAudit = (audit.body.events as any[]).find((e) => e.type === 'intent.plan_approved');
  const v1 = await untilGate(MAIN, id, (gate) => gate?.id === 'release');
  expect(v1.gate.version).toBe(1);
  main.v1Digest = v1.gate.digest;

  // Bad input at the release gate: 400 naming the field; nothing is recorded.
  const fiftyOne = Array.from({ length: 51 }, (_, i) => ({ comment: `change ${i}` }));
  const tooMany = await decide(MAIN, id, { decision: 'request_changes', reason: 'many', changes: fiftyOne });
  expectStatus(tooMany, 400);
  expect(fields(tooMany.body)).toContain('body.changes');
  const empty = await decide(MAIN, id, {
    decision: 'request_changes',
    reason: 'empty comment',
    changes: [{ task: main.task, comment: '' }],
  });
  expectStatus(empty, 400);
  expect(fields(empty.body)).toContain('body.changes.0.comment');
  const noReason = await decide(MAIN, id, { decision: 'request_changes', changes: [{ comment: 'why?' }] });
  expectStatus(noReason, 400);
  expect(fields(noReason.body)).toContain('body.reason');

  // The CLI: a --task without "task:comment" is a usage error (exit 2), sent nowhere.
  const malformed = await qlp(['request-changes', id, '--reason', 'x', '--task', 'nocolon'], keysOf(MAIN).approver);
  expect(malformed).toMatchObject({ code: 2 });
  expect(malformed.stderr).toContain('--task must be <task>:<comment>');
  const unchanged = await view(MAIN, id);
  expect(unchanged.gate).toMatchObject({ id: 'release', state: 'open', version: 1, digest: main.v1Digest });
  expect(unchanged.gate.history).toHaveLength(1);

  const requested = await qlp(
    [
      'request-changes',
      id,
      '--reason',
      'small changes before release',
      '--task',
      `${main.task}:${TASK_COMMENT}`,
      '--file',
      `src/index.ts:${FILE_COMMENT}`,
    ],
    keysOf(MAIN).approver,
  );
  expect(requested).toMatchObject({ code: 0 });
  main.reached.push('changes requested');

  // v2: a file comment names no task, so every task re-ran as a -v2 child; v1's gate is in the history.
  const v2 = await untilGate(MAIN, id, (gate) => gate?.id === 'release' && gate.version === 2);
  main.v2Digest = v2.gate.digest;
  main.reached.push('v2 at the gate');
  expect(v2.gate.digest).not.toBe(main.v1Digest);
  expect(v2.gate.history.map((g: any) => [g.id, g.version ?? null, g.decision.decision])).toEqual([
    ['plan', null, 'approve'],
    ['release', 1, 'request_changes'],
  ]);
  expect(v2.gate.history[1].decision.changes).toEqual([
    { task: main.task, comment: TASK_COMMENT },
    { file: 'src/index.ts', comment: FILE_COMMENT },
  ]);
  for (const task of taskIds) {
    const child = await stack.temporal.workflow.getHandle(`intent-${id}/task-${task}-v2`).describe();
    expect(child.status.name).toBe('COMPLETED');
  }

  // qlp status shows the version under review and the history; qlp review shows the v2 drop, diffed against v1.
  const status = await qlp(['status', id], keysOf(MAIN).approver);
  expect(status).toMatchObject({ code: 0 });
  expect(status.stdout).toContain('release gate (version 2 of at most 3)');
  expect(status.stdout).toMatch(/plan: decided, approve/);
  expect(status.stdout).toMatch(/release v1: decided, request_changes .*small changes before release/);
  const review = await qlp(['review', id], keysOf(MAIN).approver);
  expect(review).toMatchObject({ code: 0 });
  expect(review.stdout).toContain('release gate, version 2 (compared with version 1)');
  // The edited plan is what the review shows (docs/gates.md).
  expect(review.stdout).toContain('reworded by the plan reviewer');
  expect(v2.tasks.find((t: { id: string }) => t.id === main.task).description).toBe('reworded by the plan reviewer');
  const drop = await call(`${intentUrl(id)}/drops/release`, { token: keysOf(MAIN).approver });
  expect(drop.body).toMatchObject({ version: 2, previousVersion: 1, reviewDigest: main.v2Digest });

  const approved = await qlp(['approve', id, '--reason', 'v2 reviewed'], keysOf(MAIN).approver);
  expect(approved).toMatchObject({ code: 0 });
  const done = await untilEnded(MAIN, id);
  expect(done.status).toBe('COMPLETED');
  expect(done.capsule.version).toBe(2);
  main.reached.push('completed');
}, 1_200_000);

describe('webhooks for the gates (the receiver subscribed in the scenario above)', () => {
  test('gate.decided for the plan gate says gate "plan" and carries the edit', async () => {
    const id = requireStep('plan approved');
    const decided = await eventually(
      async () => eventsOf('main', id, 'gate.decided').find((e) => e.data?.decision === 'approve'),
      'gate.decided for the plan gate',
    );
    expect(decided.data).toMatchObject({ gate: 'plan', decision: 'approve' });
    expect(JSON.stringify(decided.data)).toContain('reworded by the plan reviewer');
  });

  test('gate.decided for request_changes carries the changes', async () => {
    const id = requireStep('changes requested');
    const decided = await eventually(
      async () => eventsOf('main', id, 'gate.decided').find((e) => e.data?.decision === 'request_changes'),
      'gate.decided for request_changes',
    );
    expect(decided.data).toMatchObject({ gate: 'release', decision: 'request_changes' });
    expect(decided.data.changes).toEqual([
      { task: main.task, comment: TASK_COMMENT },
      { file: 'src/index.ts', comment: FILE_COMMENT },
    ]);
  });

  test('the audit event intent.plan_approved carries the edit', () => {
    requireStep('plan approved');
    expect(main.planApprovedAudit).toBeDefined();
    expect(JSON.stringify(main.planApprovedAudit.data)).toContain('reworded by the plan reviewer');
  });

  test('plan.ready is sent for an intent with a plan gate too', async () => {
    const id = requireStep('completed');
    // Outbox rows are written with each step, so once capsule.ready (the last step) is in, plan.ready's row would be too.
    await eventually(async () => eventsOf('main', id, 'capsule.ready')[0], 'capsule.ready');
    const log = await call(`${stack.apiUrl}/webhooks/${main.subscription}/deliveries?limit=100`, {
      token: keysOf(MAIN).admin,
    });
    expectStatus(log, 200);
    const types = (log.body.items as { intentId: string; eventType: string }[])
      .filter((d) => d.intentId === id)
      .map((d) => d.eventType);
    expect(types).toContain('capsule.ready');
    expect(types).toContain('plan.ready');
    const ready = await eventually(async () => eventsOf('main', id, 'plan.ready')[0], 'plan.ready');
    expect(ready.data.tasks.map((t: { id: string }) => t.id)).toEqual(main.taskIds);
  });

  test('gate.opened for the plan gate, for v1 and again for v2 with its new digest; capsule.ready says v2', async () => {
    const id = requireStep('completed');
    const opened = await eventually(async () => {
      const events = eventsOf('main', id, 'gate.opened');
      return events.length >= 3 ? events : undefined;
    }, 'gate.opened for the plan, v1 and v2');
    expect(opened.map((e) => [e.data.gate.id, e.data.gate.digest])).toEqual([
      ['plan', expect.stringMatching(/^[0-9a-f]{64}$/)],
      ['release', main.v1Digest],
      ['release', main.v2Digest],
    ]);
    const capsule = await eventually(async () => eventsOf('main', id, 'capsule.ready')[0], 'capsule.ready');
    expect(capsule.data.version).toBe(2);
  });
});

test('PLAN_GATE=auto below the tenant threshold opens no plan gate; an unsigned request_changes signal (temporal CLI) reaches v2', async () => {
  // For contrast with the plan-gated intent above: plan.ready without a plan gate.
  const url = receiver.endpoint('signal', always(204));
  const subscribed = await call(`${stack.apiUrl}/webhooks`, {
    body: { url, events: ['plan.ready'], tenant: SIGNAL },
    token: keysOf(SIGNAL).admin,
  });
  expectStatus(subscribed, 201);
  receiver.setSecret('signal', subscribed.body.secret);
  const id = await submit(SIGNAL, { text: 'A REST API for books with title and author' });
  const v1 = await untilGate(SIGNAL, id, (gate) => gate?.id === 'release');
  expect(v1.gate.version).toBe(1);
  expect(v1.gate.history ?? []).toHaveLength(0);
  const ready = await eventually(async () => eventsOf('signal', id, 'plan.ready')[0], 'plan.ready');
  expect(ready.data.tasks.map((t: { id: string }) => t.id)).toEqual(v1.tasks.map((t: { id: string }) => t.id));

  const sent = await signalDecision(v1.workflowId, {
    decision: 'request_changes',
    approver: 'ops on call',
    reason: 'rename the routes',
    changes: [{ comment: 'use plural nouns in routes' }],
  });
  expect(sent).toMatchObject({ code: 0 });

  const v2 = await untilGate(SIGNAL, id, (gate) => gate?.id === 'release' && gate.version === 2);
  expect(v2.gate.history).toHaveLength(1);
  expect(v2.gate.history[0]).toMatchObject({
    id: 'release',
    version: 1,
    decision: {
      decision: 'request_changes',
      via: 'temporal-ui',
      authenticated: false,
      changes: [{ comment: 'use plural nouns in routes' }],
    },
  });

  expectStatus(await decide(SIGNAL, id, { decision: 'reject', reason: 'done checking' }), 200);
  expect((await untilEnded(SIGNAL, id)).status).toBe('REJECTED');
}, 1_200_000);

/** What the one-version scenario leaves for the checks that follow it. */
const one: { planView?: any; releaseView?: any; ignoredAudit?: any[]; statusQuery?: string; reached: string[] } = {
  reached: [],
};

test('PLAN_GATE=auto at the tenant threshold opens the plan gate; with maxVersions 1 request_changes is a 409 and a signal is ignored', async () => {
  const id = await submit(ONE, { text: 'A CLI tool to track nightly sales reports' });
  one.planView = await untilGate(ONE, id, (gate) => gate?.id === 'plan');
  expect(one.planView.gate).toMatchObject({ state: 'open', roles: ['approver'] });
  expect(one.planView.gate.digest).toMatch(/^[0-9a-f]{64}$/);
  expectStatus(await decide(ONE, id, { decision: 'approve', reason: 'plan ok' }), 200);

  const v1 = await untilGate(ONE, id, (gate) => gate?.id === 'release');
  one.releaseView = v1;
  one.reached.push('release gate');
  const refused = await decide(ONE, id, { decision: 'request_changes', reason: 'one more try' });
  expectStatus(refused, 409);
  // The problem document's title (docs/gates.md: 409 `No more versions`); the detail says which version.
  expect(refused.body.title).toBe('No more versions');
  expect(refused.body.detail).toContain('version 1 of at most 1');

  const sent = await signalDecision(v1.workflowId, {
    decision: 'request_changes',
    approver: 'ops on call',
    reason: 'one more try by signal',
  });
  expect(sent).toMatchObject({ code: 0 });
  // Recorded: an intent.decision_ignored audit event (read as the tenant's auditor); the gate stays at v1.
  one.ignoredAudit = await eventually(async () => {
    const audit = await call(`${stack.apiUrl}/audit?intent=${id}`, { token: keysOf(ONE).auditor });
    expectStatus(audit, 200);
    const events = (audit.body.events as any[]).filter((e) => e.type === 'intent.decision_ignored');
    return events.length > 0 ? events : undefined;
  }, 'intent.decision_ignored in the audit trail');
  const query = await temporalCli(['workflow', 'query', '--workflow-id', v1.workflowId, '--type', 'status']);
  expect(query).toMatchObject({ code: 0 });
  one.statusQuery = query.output;
  one.reached.push('signal ignored');
  const after = await view(ONE, id);
  // gate.version is absent here (maxVersions 1), present as 1 in the other scenarios: read as 1.
  expect(after.gate.version ?? 1).toBe(1);
  expect(after.gate).toMatchObject({ id: 'release', state: 'open', digest: v1.gate.digest });
  expect(after.gate.history).toHaveLength(1);

  expectStatus(await decide(ONE, id, { decision: 'reject', reason: 'done checking' }), 200);
  expect((await untilEnded(ONE, id)).status).toBe('REJECTED');
}, 1_200_000);

describe('what the one-version scenario above recorded', () => {
  test("the ignored signal is counted in the status query's ignoredDecisions (temporal CLI)", () => {
    if (!one.reached.includes('signal ignored')) throw new Error("the scenario above did not reach 'signal ignored'");
    const result = JSON.parse(/QueryResult\s+(\{.*\})\s*$/s.exec(one.statusQuery!)![1]!);
    expect(result.ignoredDecisions).toMatchObject({ count: 1, latest: [{ approver: 'ops on call' }] });
  });

  test('the intent.decision_ignored audit event carries what was sent, made printable (docs/ARCHITECTURE.md)', () => {
    if (!one.reached.includes('signal ignored')) throw new Error("the scenario above did not reach 'signal ignored'");
    expect(one.ignoredAudit).toHaveLength(1);
    expect(JSON.stringify(one.ignoredAudit![0].data)).toContain('request_changes');
    expect(JSON.stringify(one.ignoredAudit![0].data)).toContain('one more try by signal');
  });

  test('at the plan gate the intent view shows the plan under review (docs/gates.md: "the plan and its digest are in the gate state and the API\'s intent view")', () => {
    if (!one.reached.includes('release gate')) throw new Error("the scenario above did not reach 'release gate'");
    const planned = one.releaseView.tasks.map((t: { id: string; description: string }) => [t.id, t.description]);
    expect(planned.length).toBeGreaterThan(0);
    expect(one.planView.tasks.map((t: { id: string; description: string }) => [t.id, t.description])).toEqual(planned);
    expect(one.planView.tasks.every((t: { status: string }) => t.status === 'PENDING')).toBe(true);
  });
});
