import { signDecision } from '../contracts/approval';
import { loadSigningKey } from '../adapters/identity/signing-key';
import type { Config } from '../config';
import { call, decide } from './support/api';
import {
  newKey,
  submitIntent,
  summary,
  terminateRunning,
  uniqueTenant,
  waitForIntent,
  waitForStatus,
  type TestKey,
} from './support/authz-helpers';
import { eventually, openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';

// The human gate as an outsider sees it: who may decide, on what they reviewed, how many must agree,
// what a `decision` signal from the Temporal CLI/Web UI counts for, and a tenant's quota.
//
// Two deployments: `prod` refuses unsigned signals and has a tenant that needs two approvers and one
// allowed a single running intent; `dev` accepts unsigned signals (recorded as unauthenticated).

const PAIR = uniqueTenant('pair');
const QUOTA = uniqueTenant('quota');

let prod: TestStack;
let dev: TestStack;
const workers: RunningWorker[] = [];

/** Keys beyond each stack's own (tenant `default`: submitter, approver, approver2, auditor, admin). */
let selfApprover: TestKey; // submitter and approver: may approve, but not what it submitted
let pair: { submitter: TestKey; first: TestKey; second: TestKey };
let quotaSubmitter: TestKey;

/** Intents submitted at the start, so they all reach the gate while earlier tests run. */
let own: { id: string; workflowId: string }; // prod, submitted by selfApprover: 400/403/409 checks
let signalled: { id: string; workflowId: string }; // prod: decision signals
let twoOfTwo: { id: string; workflowId: string }; // prod, tenant PAIR: approved by two
let rejectedByOne: { id: string; workflowId: string }; // prod, tenant PAIR: approved by one, rejected by another
let unsigned: { id: string; workflowId: string }; // dev: an unsigned signal

const withSecurity =
  (security: Partial<Config['security']>) =>
  (c: Config): Config => ({ ...c, security: { ...c.security, ...security } });

beforeAll(async () => {
  [prod, dev] = await Promise.all([
    openStack(
      'authz-gate-prod',
      withSecurity({
        unsignedSignals: 'refuse',
        tenants: { [PAIR]: { approvalsRequired: 2 }, [QUOTA]: { concurrentIntents: 1 } },
      }),
    ),
    openStack('authz-gate-dev', withSecurity({ unsignedSignals: 'accept' })),
  ]);
  workers.push(...(await Promise.all([startWorker(prod), startWorker(dev)])));
  [selfApprover, pair, quotaSubmitter] = await Promise.all([
    newKey(prod, 'default', 'gate-self', ['submitter', 'approver']),
    (async () => ({
      submitter: await newKey(prod, PAIR, 'pair-submitter', ['submitter']),
      first: await newKey(prod, PAIR, 'pair-first-approver', ['approver']),
      second: await newKey(prod, PAIR, 'pair-second-approver', ['approver']),
    }))(),
    newKey(prod, QUOTA, 'quota-submitter', ['submitter']),
  ]);
  [own, signalled, twoOfTwo, rejectedByOne, unsigned] = await Promise.all([
    submitIntent(prod, selfApprover.key),
    submitIntent(prod, prod.keys.submitter),
    submitIntent(prod, pair.submitter.key),
    submitIntent(prod, pair.submitter.key),
    submitIntent(dev, dev.keys.submitter),
  ]);
});

afterAll(async () => {
  await terminateRunning(prod, 'authz gate test finished');
  await terminateRunning(dev, 'authz gate test finished');
  await Promise.all(workers.map((worker) => worker.stop()));
  await prod?.close();
  await dev?.close();
});

const atGate = (stack: TestStack, id: string, token: string) => waitForStatus(stack, id, token, 'AWAITING_APPROVAL');

/** The intent still waits at an open gate, with the approvals given so far (names). */
async function expectStillWaiting(stack: TestStack, id: string, token: string, approvals: string[] = []) {
  const { status, body } = await call(`${stack.apiUrl}/intents/${id}`, { token });
  expect(status).toBe(200);
  expect({
    status: body.status,
    gate: body.gate?.state,
    approvals: (body.gate?.approvals ?? []).map((a: { name: string }) => a.name),
  }).toEqual({ status: 'AWAITING_APPROVAL', gate: 'open', approvals });
  expect(body.gate.decision).toBeUndefined();
}

const statusQuery = (stack: TestStack, workflowId: string) =>
  stack.temporal.workflow
    .getHandle(workflowId)
    .query<{ gate?: { state: string }; ignoredDecisions?: { count: number } }>('status');

const signal = (stack: TestStack, workflowId: string, payload: unknown) =>
  stack.temporal.workflow.getHandle(workflowId).signal<[unknown]>('decision', payload);

test('quota: a second submission while the first runs is refused with 429, Retry-After and the quota', async () => {
  const first = await submitIntent(prod, quotaSubmitter.key);
  const second = await call(`${prod.apiUrl}/intents`, {
    body: { text: 'A library module for invoices with amount and due date' },
    token: quotaSubmitter.key,
  });
  expect(summary(second)).toMatch(/^429 /);
  expect(second.headers.get('retry-after')).toMatch(/^\S+$/);
  expect(second.body.quota).toMatchObject({ name: 'concurrentIntents', limit: 1, used: 1 });
  expect(second.body.quota).toHaveProperty('resetsAt');

  // Once the first has ended, the tenant may submit again.
  const cancel = await call(`${prod.apiUrl}/intents/${first.id}/cancel`, {
    body: { reason: 'quota test' },
    token: quotaSubmitter.key,
  });
  expect(cancel.status).toBeLessThan(300);
  await waitForStatus(prod, first.id, quotaSubmitter.key, 'CANCELLED');
  const third = await submitIntent(prod, quotaSubmitter.key);
  await call(`${prod.apiUrl}/intents/${third.id}/cancel`, {
    body: { reason: 'quota test' },
    token: quotaSubmitter.key,
  });
});

test('the approver is whoever authenticates: a body field `approver` is refused with 400', async () => {
  const view = await atGate(prod, own.id, prod.keys.approver);
  const response = await call(`${prod.apiUrl}/intents/${own.id}/decision`, {
    body: { decision: 'approve', digest: view.gate.digest, approver: 'someone-else@example.com' },
    token: prod.keys.approver,
  });
  expect(summary(response)).toMatch(/^400 /);
  await expectStillWaiting(prod, own.id, prod.keys.approver);
});

test('the submitter cannot approve their own intent (403), even holding the approver role; it keeps waiting', async () => {
  await atGate(prod, own.id, selfApprover.key);
  const response = await decide(prod.apiUrl, own.id, { decision: 'approve' }, selfApprover.key);
  expect(summary(response)).toMatch(/^403 /);
  await expectStillWaiting(prod, own.id, selfApprover.key);
});

test('nor can the submitter get a signed token for it, and the gate ignores one signed anyway (a `decision` signal)', async () => {
  await atGate(prod, own.id, selfApprover.key);
  const before = (await statusQuery(prod, own.workflowId)).ignoredDecisions?.count ?? 0;
  const issued = await decide(prod.apiUrl, own.id, { decision: 'approve' }, selfApprover.key, 'decision-token');
  // The API refuses to issue it (a token the gate would ignore is no use)...
  expect(summary(issued)).toMatch(/^403 /);
  // ...and the gate refuses one anyway: signed with the API's own key, as if the API had issued it.
  const view = await atGate(prod, own.id, selfApprover.key);
  const whoami = (await call(`${prod.apiUrl}/whoami`, { token: selfApprover.key })).body;
  const token = signDecision(
    {
      v: 1,
      intentId: own.id,
      decision: 'approve',
      digest: view.gate.digest,
      principal: { ...whoami },
      issuedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
    },
    loadSigningKey(prod.config.security).privateKey,
  );
  await signal(prod, own.workflowId, { token });
  const outcome = await eventually(async () => {
    const state = await statusQuery(prod, own.workflowId);
    if (state.gate?.state !== 'open') return `gate ${state.gate?.state}`;
    return (state.ignoredDecisions?.count ?? 0) > before ? 'ignored' : undefined;
  }, 'the gate to ignore (or take) the signal');
  expect(outcome).toBe('ignored');
  await expectStillWaiting(prod, own.id, selfApprover.key);
});

test('a decision on a digest that is not the gate’s current one is stale (409); it keeps waiting', async () => {
  const view = await atGate(prod, own.id, prod.keys.approver);
  const stale = view.gate.digest.replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
  for (const digest of [stale, '0'.repeat(64)]) {
    const response = await decide(prod.apiUrl, own.id, { decision: 'approve', digest }, prod.keys.approver);
    expect(summary(response)).toMatch(/^409 /);
  }
  await expectStillWaiting(prod, own.id, prod.keys.approver);
});

test('production: an unsigned `decision` signal is refused, recorded in the audit trail, and the intent keeps waiting', async () => {
  await atGate(prod, signalled.id, prod.keys.auditor);
  await signal(prod, signalled.workflowId, { decision: 'approve', approver: 'ops@example.com', reason: 'lgtm' });
  const ignored = await eventually(async () => {
    const audit = await call(`${prod.apiUrl}/audit?intent=${signalled.id}`, { token: prod.keys.auditor });
    expect(audit.status).toBe(200);
    return audit.body.events.find((e: { type: string }) => e.type === 'intent.decision_ignored');
  }, 'the refusal in the audit trail');
  expect(ignored.intentId).toBe(signalled.id);
  expect((await statusQuery(prod, signalled.workflowId)).ignoredDecisions?.count).toBeGreaterThanOrEqual(1);
  await expectStillWaiting(prod, signalled.id, prod.keys.auditor);
});

test('a signed token for another intent is refused; the intent’s own token, sent as a signal, decides it', async () => {
  const view = await atGate(prod, signalled.id, prod.keys.auditor);
  const ignoredBefore = (await statusQuery(prod, signalled.workflowId)).ignoredDecisions?.count ?? 0;

  // A real token, by a real approver of the same tenant — but for the intent waiting next door.
  await atGate(prod, own.id, prod.keys.approver);
  const foreign = await decide(prod.apiUrl, own.id, { decision: 'approve' }, prod.keys.approver, 'decision-token');
  expect(summary(foreign)).toMatch(/^20[01] /);
  expect(foreign.body).toMatchObject({
    token: expect.any(String),
    command: expect.any(String),
    expiresAt: expect.any(String),
  });
  await signal(prod, signalled.workflowId, { token: foreign.body.token });

  // Then this intent's own, by another approver. Signals are taken in order: if the foreign token had
  // counted, the gate would show its approver instead.
  const mine = await decide(
    prod.apiUrl,
    signalled.id,
    { decision: 'approve', digest: view.gate.digest },
    prod.keys.approver2,
    'decision-token',
  );
  expect(summary(mine)).toMatch(/^20[01] /);
  await signal(prod, signalled.workflowId, { token: mine.body.token });

  const decided = await waitForIntent(
    prod,
    signalled.id,
    prod.keys.auditor,
    (v) => v.gate?.state === 'decided',
    'the gate to be decided by the signal',
  );
  const approver2 = (await call(`${prod.apiUrl}/whoami`, { token: prod.keys.approver2 })).body.name;
  expect(decided.gate.decision).toMatchObject({ decision: 'approve', via: 'signal', approver: approver2 });
  expect(decided.gate.decision.authenticated).not.toBe(false);
  expect(decided.gate.decision.approvals.map((a: { name: string; via: string }) => [a.name, a.via])).toEqual([
    [approver2, 'signal'],
  ]);
  expect((await statusQuery(prod, signalled.workflowId)).ignoredDecisions?.count).toBe(ignoredBefore + 1);
  await waitForStatus(prod, signalled.id, prod.keys.auditor, 'COMPLETED');
});

test('an approver who is not the submitter approves the same intent through the API (200)', async () => {
  const response = await decide(prod.apiUrl, own.id, { decision: 'approve' }, prod.keys.approver);
  expect(summary(response)).toMatch(/^200 /);
  const approver = (await call(`${prod.apiUrl}/whoami`, { token: prod.keys.approver })).body.name;
  expect(response.body.decision).toMatchObject({ decision: 'approve', approver, via: 'update' });
});

test('two approvers required: the first approval leaves the gate open, the same one twice is 409, a second completes it', async () => {
  await atGate(prod, twoOfTwo.id, pair.first.key);
  const first = await decide(prod.apiUrl, twoOfTwo.id, { decision: 'approve' }, pair.first.key);
  expect(summary(first)).toMatch(/^200 /);
  expect(first.body.gate.state).toBe('open');
  await expectStillWaiting(prod, twoOfTwo.id, pair.first.key, [pair.first.name]);

  const again = await decide(prod.apiUrl, twoOfTwo.id, { decision: 'approve' }, pair.first.key);
  expect(summary(again)).toMatch(/^409 /);
  await expectStillWaiting(prod, twoOfTwo.id, pair.first.key, [pair.first.name]);

  const second = await decide(prod.apiUrl, twoOfTwo.id, { decision: 'approve' }, pair.second.key);
  expect(summary(second)).toMatch(/^200 /);
  const done = await waitForStatus(prod, twoOfTwo.id, pair.first.key, 'COMPLETED');
  expect(done.gate.decision.approvals.map((a: { name: string }) => a.name)).toEqual([
    pair.first.name,
    pair.second.name,
  ]);
});

test('two approvers required: one rejection, after an approval, ends the gate (REJECTED)', async () => {
  await atGate(prod, rejectedByOne.id, pair.first.key);
  const first = await decide(prod.apiUrl, rejectedByOne.id, { decision: 'approve' }, pair.first.key);
  expect(summary(first)).toMatch(/^200 /);
  expect(first.body.gate.state).toBe('open');
  const rejection = await decide(
    prod.apiUrl,
    rejectedByOne.id,
    { decision: 'reject', reason: 'not without a security review' },
    pair.second.key,
  );
  expect(summary(rejection)).toMatch(/^200 /);
  const done = await waitForStatus(prod, rejectedByOne.id, pair.first.key, 'REJECTED');
  expect(done.gate).toMatchObject({
    state: 'decided',
    decision: { decision: 'reject', approver: pair.second.name, reason: 'not without a security review' },
  });
  expect(done.capsule).toBeNull();
});

test('development: an unsigned `decision` signal is accepted, recorded as via temporal-ui, unauthenticated', async () => {
  await atGate(dev, unsigned.id, dev.keys.auditor);
  await signal(dev, unsigned.workflowId, { decision: 'approve', approver: 'ops@example.com', reason: 'lgtm' });
  const done = await waitForStatus(dev, unsigned.id, dev.keys.auditor, 'COMPLETED');
  expect(done.gate.decision).toMatchObject({
    decision: 'approve',
    approver: 'ops@example.com',
    via: 'temporal-ui',
    authenticated: false,
  });
});
