import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { forbiddenRange } from '../adapters/webhooks/ssrf';
import { createApp } from '../api/app';
import { apiDependencies } from '../api/dependencies';
import { listen } from '../api/listen';
import { DEFAULT_WEBHOOK_CONFIG } from '../config/webhooks';
import { CreatedWebhookView, WebhookDeliveryPage, WebhookList, WebhookView } from '../contracts/webhooks';
import { call, decide } from './support/api';
import { newKey, uniqueTenant } from './support/authz-helpers';
import {
  createStackKeys,
  eventually,
  openStack,
  startWorker,
  type RunningWorker,
  type StackKeys,
  type TestStack,
} from './support/stack';
import { always, failFirst, WebhookReceiver } from './support/webhook-receiver';

// Durable webhooks against the real stack: subscriptions through the API, events from a real intent run,
// deliveries by Temporal workflows to a real local receiver that checks every signature, fails on
// purpose, and deduplicates by event id (counting duplicates). Rows of tenant `webhooks`.

const TENANT = 'webhooks';
const INTENT_TEXT = 'A library module for invoices with amount and due date';
const LIFECYCLE_EVENTS = [
  'intent.submitted',
  'plan.ready',
  'gate.opened',
  'gate.decided',
  'intent.completed',
  'capsule.ready',
].sort();

let stack: TestStack;
let worker: RunningWorker | undefined;
let keys: StackKeys;
const receiver = new WebhookReceiver();
/** The same API and database with the deployment's strict defaults: https and public targets only. */
let strictApi: { url: string; server: Server };

beforeAll(async () => {
  // The receiver is on 127.0.0.1 over http: allowed here, as a deployment would for its own tests.
  // Short backoffs, so retries take milliseconds (the policy's shape is the production one).
  stack = await openStack('webhooks', (c) => ({
    ...c,
    webhooks: {
      ...c.webhooks,
      allowPrivateTargets: true,
      allowHttp: true,
      retry: { initialIntervalMs: 100, maximumIntervalMs: 400 },
    },
  }));
  keys = await createStackKeys(stack.db, 'webhooks', TENANT);
  await receiver.start();
  const strictConfig = { ...stack.config, webhooks: DEFAULT_WEBHOOK_CONFIG };
  const app = createApp(
    apiDependencies({ config: strictConfig, db: stack.db, temporal: stack.temporal, store: stack.store }),
  );
  const server = await listen(app, 0, '127.0.0.1');
  strictApi = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`, server };
  worker = await startWorker(stack);
});

afterAll(async () => {
  await worker?.stop();
  if (strictApi) await new Promise((resolve) => strictApi.server.close(resolve));
  await receiver.stop();
  await stack?.close();
});

const asAdmin = { token: () => keys.admin };

async function subscribe(body: Record<string, unknown>, token = asAdmin.token(), api = stack.apiUrl) {
  return call(`${api}/webhooks`, { body, token });
}

/** A subscription to a receiver endpoint; the receiver learns the secret the API shows once. */
async function subscribeEndpoint(name: string, url: string, body: Record<string, unknown>) {
  const created = await subscribe({ url, ...body });
  expect(created.status).toBe(201);
  const view = CreatedWebhookView.parse(created.body);
  receiver.setSecret(name, view.secret);
  return view;
}

async function deliveries(webhookId: string, query = '') {
  const page = await call(`${stack.apiUrl}/webhooks/${webhookId}/deliveries${query}`, { token: keys.admin });
  expect(page.status).toBe(200);
  return WebhookDeliveryPage.parse(page.body);
}

async function submitIntent(): Promise<string> {
  const submitted = await call(`${stack.apiUrl}/intents`, { body: { text: INTENT_TEXT }, token: keys.submitter });
  expect(submitted.status).toBe(202);
  return submitted.body.id;
}

async function waitForStatus(id: string, status: string) {
  return eventually(async () => {
    const { body } = await call(`${stack.apiUrl}/intents/${id}`, { token: keys.submitter });
    if (['FAILED', 'REJECTED', 'CANCELLED'].includes(body.status) && body.status !== status) {
      throw new Error(`intent ${id} ended ${body.status}: ${body.statusReason}`);
    }
    return body.status === status ? body : undefined;
  }, `intent ${id} to reach ${status}`);
}

const ofIntent = (events: Map<string, any>, intentId: string) =>
  [...events.values()].filter((event) => event.intentId === intentId);

describe('subscriptions', () => {
  test('an admin creates, lists, reads and deletes a subscription; the secret is shown once', async () => {
    // A host that resolves offline: this API allows loopback targets (the strict one is tested below).
    const created = await subscribe({
      url: 'http://127.0.0.1:9/qlp?team=payments',
      events: ['intent.completed', 'capsule.ready'],
      headers: { Authorization: 'Bearer receiver-token' },
      maxAttempts: 4,
    });
    expect(created.status).toBe(201);
    const view = CreatedWebhookView.parse(created.body);
    expect(view).toMatchObject({
      tenant: TENANT,
      events: ['intent.completed', 'capsule.ready'],
      headerNames: ['Authorization'],
      enabled: true,
      maxAttempts: 4,
      timeoutMs: 10_000,
      deletedAt: null,
    });
    expect(view.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.headers.get('location')).toBe(`/api/v1/webhooks/${view.id}`);

    const list = await call(`${stack.apiUrl}/webhooks`, { token: keys.admin });
    expect(list.status).toBe(200);
    const listed = WebhookList.parse(list.body).items.find((item) => item.id === view.id);
    expect(listed).toBeDefined();
    // Never again: not in the list, not in a read, not the header values.
    const read = await call(`${stack.apiUrl}/webhooks/${view.id}`, { token: keys.admin });
    expect(read.status).toBe(200);
    for (const body of [list.body, read.body]) {
      expect(JSON.stringify(body)).not.toContain(view.secret);
      expect(JSON.stringify(body)).not.toContain('receiver-token');
    }
    expect(WebhookView.parse(read.body)).toEqual(listed);

    const deleted = await call(`${stack.apiUrl}/webhooks/${view.id}`, { method: 'DELETE', token: keys.admin });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ id: view.id, enabled: false, deletedAt: expect.any(String) });
    const after = WebhookList.parse((await call(`${stack.apiUrl}/webhooks`, { token: keys.admin })).body);
    expect(after.items.map((item) => item.id)).not.toContain(view.id);
    const again = await call(`${stack.apiUrl}/webhooks/${view.id}`, { method: 'DELETE', token: keys.admin });
    expect(again.status).toBe(404);

    const audit = await stack.db.auditEvent.findMany({
      where: { eventKey: { in: [`webhook-created:${view.id}`, `webhook-deleted:${view.id}`] } },
    });
    expect(audit.map((event) => event.type).sort()).toEqual(['webhook.created', 'webhook.deleted']);
    expect(JSON.stringify(audit.map((event) => event.data))).not.toContain(view.secret);
  });

  test('each invalid field is named: URL, event names, headers, limits', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ url: 'not a url', events: ['plan.ready'] }, 'body.url', /absolute URL/],
      [{ url: 'ftp://hooks.example.com/x', events: ['plan.ready'] }, 'body.url', /https/],
      [{ url: 'https://user:pw@hooks.example.com/', events: ['plan.ready'] }, 'body.url', /credentials/],
      [{ url: 'https://hooks.example.com/', events: ['plan.ready', 'intent.exploded'] }, 'body.events.1', /one of/],
      [{ url: 'https://hooks.example.com/', events: [] }, 'body.events', /at least one/],
      [{ url: 'https://hooks.example.com/', events: ['plan.ready'], headers: { Host: 'x' } }, 'body.headers', /set by/],
      [
        { url: 'https://hooks.example.com/', events: ['plan.ready'], headers: { 'X-QLP-Signature': 'x' } },
        'body.headers',
        /x-qlp-/,
      ],
      [{ url: 'https://hooks.example.com/', events: ['plan.ready'], secret: 'short' }, 'body.secret', /16–200/],
      [{ url: 'https://hooks.example.com/', events: ['plan.ready'], maxAttempts: 0 }, 'body.maxAttempts', /./],
      [{ url: 'https://hooks.example.com/', events: ['plan.ready'], surprise: 1 }, 'body', /unknown field/],
    ];
    for (const [body, field, reason] of cases) {
      const response = await subscribe(body, keys.admin, strictApi.url);
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
      const error = response.body.errors.find((e: { field: string }) => e.field.startsWith(field));
      expect({ body, error }).toEqual({
        body,
        error: expect.objectContaining({ reason: expect.stringMatching(reason) }),
      });
    }
  });

  test('internal targets are refused unless the deployment allows them (SSRF)', async () => {
    const refused: [string, RegExp][] = [
      ['https://127.0.0.1/hook', /loopback/],
      ['https://localhost:8443/hook', /localhost resolves to .*loopback/],
      ['https://10.1.2.3/hook', /private/],
      ['https://192.168.0.10/hook', /private/],
      ['https://169.254.169.254/latest/meta-data', /link-local/],
      ['https://100.64.0.1/', /carrier-grade NAT/],
      ['https://0.0.0.0/', /this-network/],
      ['https://[::1]/hook', /loopback/],
      ['https://[fd00::1]/hook', /unique-local/],
      ['https://[fe80::1]/hook', /link-local/],
      ['https://[::ffff:127.0.0.1]/hook', /loopback.*IPv4 inside IPv6/],
      ['https://[::ffff:a9fe:a9fe]/hook', /link-local.*IPv4 inside IPv6/],
      ['http://hooks.example.com/', /must be an https URL/],
    ];
    for (const [url, reason] of refused) {
      const response = await subscribe({ url, events: ['plan.ready'] }, keys.admin, strictApi.url);
      expect({ url, status: response.status, errors: response.body.errors }).toEqual({
        url,
        status: 400,
        errors: [{ field: 'body.url', reason: expect.stringMatching(reason) }],
      });
    }
    // The same loopback receiver is accepted where the deployment allows it (these tests' own API).
    const allowed = await subscribe({ url: 'http://127.0.0.1:9/x', events: ['plan.ready'], enabled: false });
    expect(allowed.status).toBe(201);
    await call(`${stack.apiUrl}/webhooks/${allowed.body.id}`, { method: 'DELETE', token: keys.admin });

    // The guard's table, address by address (delivery checks every resolved address with it).
    expect(forbiddenRange('93.184.215.14')).toBeUndefined();
    expect(forbiddenRange('2606:4700:4700::1111')).toBeUndefined();
    expect(forbiddenRange('172.31.255.255')).toMatch(/private/);
    expect(forbiddenRange('172.32.0.1')).toBeUndefined();
    expect(forbiddenRange('224.0.0.1')).toMatch(/multicast/);
    expect(forbiddenRange('ff02::1')).toMatch(/multicast/);
    expect(forbiddenRange('::')).toMatch(/unspecified/);
    expect(forbiddenRange('64:ff9b::10.0.0.1')).toMatch(/private.*IPv4 inside IPv6/);
    expect(forbiddenRange('2002:c0a8:0001::1')).toMatch(/private.*IPv4 inside IPv6/);
    expect(forbiddenRange('::ffff:8.8.8.8')).toBeUndefined();
  });

  test('only admins of the tenant manage its subscriptions', async () => {
    const body = { url: 'https://hooks.example.com/', events: ['plan.ready'] };
    for (const token of [keys.submitter, keys.approver, keys.auditor]) {
      expect((await subscribe(body, token)).status).toBe(403);
      expect((await call(`${stack.apiUrl}/webhooks`, { token })).status).toBe(403);
    }
    const mine = await subscribe({ ...body, url: 'http://127.0.0.1:9/mine', enabled: false });
    expect(mine.status).toBe(201);
    const outsider = await newKey(stack, uniqueTenant('other'), 'other-admin', ['admin']);
    const paths = [`/webhooks/${mine.body.id}`, `/webhooks/${mine.body.id}/deliveries`];
    for (const path of paths) expect((await call(`${stack.apiUrl}${path}`, { token: outsider.key })).status).toBe(404);
    const deleting = await call(`${stack.apiUrl}/webhooks/${mine.body.id}`, { method: 'DELETE', token: outsider.key });
    expect(deleting.status).toBe(404);
    const elsewhere = await subscribe({ ...body, tenant: TENANT }, outsider.key);
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.errors).toEqual([{ field: 'body.tenant', reason: 'is not one of your tenants' }]);
    const theirs = WebhookList.parse((await call(`${stack.apiUrl}/webhooks`, { token: outsider.key })).body);
    expect(theirs.items).toEqual([]);
  });
});

describe('delivery', () => {
  let intentId: string;
  let flaky: CreatedWebhookView;
  let dead: CreatedWebhookView;
  let rejecting: CreatedWebhookView;
  let disabled: CreatedWebhookView;

  test('an intent run delivers each event exactly once by id, signed, despite two failures per event', async () => {
    // Every event fails twice with a 500 before it is accepted.
    flaky = await subscribeEndpoint('flaky', receiver.endpoint('flaky', failFirst(2)), {
      events: [...LIFECYCLE_EVENTS, 'intent.failed'],
    });
    // Never accepts: dead-lettered after its 3 attempts.
    dead = await subscribeEndpoint('down', receiver.endpoint('down', always(503)), {
      events: ['intent.submitted', 'plan.ready'],
      maxAttempts: 3,
      secret: 'a-secret-the-admin-chose-1234',
    });
    // A 4xx (not 408/429) is final: dead-lettered after one attempt.
    rejecting = await subscribeEndpoint('gone', receiver.endpoint('gone', always(410)), {
      events: ['intent.submitted'],
    });
    disabled = await subscribeEndpoint('off', receiver.endpoint('off', always(204)), {
      events: LIFECYCLE_EVENTS,
      enabled: false,
    });

    intentId = await submitIntent();
    await waitForStatus(intentId, 'AWAITING_APPROVAL');
    const approved = await decide(stack.apiUrl, intentId, { decision: 'approve', reason: 'ship it' }, keys.approver);
    expect(approved.status).toBe(200);
    const done = await waitForStatus(intentId, 'COMPLETED');

    const events = await eventually(async () => {
      const got = ofIntent(receiver.accepted('flaky'), intentId);
      return got.length >= LIFECYCLE_EVENTS.length ? got : undefined;
    }, 'every lifecycle event at the flaky receiver');
    expect(events.map((event) => event.type).sort()).toEqual(LIFECYCLE_EVENTS);
    expect(receiver.duplicates('flaky')).toEqual([]);
    const requests = receiver.requestsTo('flaky').filter((r) => r.body?.intentId === intentId);
    expect(requests.every((r) => r.signatureValid)).toBe(true);
    // Three requests per event: 500, 500, then accepted.
    expect(requests.length).toBe(3 * LIFECYCLE_EVENTS.length);
    for (const event of events) {
      expect(event).toEqual({
        id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
        type: expect.any(String),
        createdAt: expect.any(String),
        tenant: TENANT,
        intentId,
        data: expect.any(Object),
      });
      expect(requests.filter((r) => r.eventId === event.id).map((r) => r.status)).toEqual([500, 500, 204]);
    }
    const byType = Object.fromEntries(events.map((event) => [event.type, event]));
    expect(byType['capsule.ready'].data).toMatchObject({
      capsuleId: done.capsule.id,
      version: 1,
      sha256: done.capsule.sha256,
      download: `/api/v1/capsules/${done.capsule.id}/download`,
    });
    expect(byType['gate.decided'].data).toMatchObject({ decision: 'approve', reason: 'ship it', via: 'update' });
    expect(byType['gate.opened'].data.gate).toMatchObject({ id: 'release', state: 'open', required: 1 });
    expect(byType['plan.ready'].data.tasks.length).toBeGreaterThan(0);

    // The delivery log says the same: each delivery DELIVERED on its third attempt, all three logged.
    const log = await eventually(async () => {
      const page = await deliveries(flaky.id, '?limit=100');
      const mine = page.items.filter((d) => d.intentId === intentId);
      return mine.length === LIFECYCLE_EVENTS.length && mine.every((d) => d.status === 'DELIVERED') ? mine : undefined;
    }, 'the flaky deliveries to be logged as delivered');
    for (const delivery of log) {
      expect(delivery.attempts.map((a) => [a.attempt, a.statusCode])).toEqual([
        [1, 500],
        [2, 500],
        [3, 204],
      ]);
      expect(delivery).toMatchObject({ lastStatusCode: 204, lastError: null, redelivery: 0, deadAt: null });
      expect(byType[delivery.eventType].id).toBe(delivery.eventId);
    }
    // Newest first, and a page at a time.
    const first = await deliveries(flaky.id, '?limit=2');
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await deliveries(flaky.id, `?limit=100&cursor=${first.nextCursor}`);
    expect([...first.items, ...second.items].map((d) => d.id)).toEqual(log.map((d) => d.id));
    expect((await deliveries(disabled.id)).items).toEqual([]);
    // The secret went to the receiver and the database only: no workflow history holds it.
    const histories = await Promise.all(
      log.map((d) => stack.temporal.workflow.getHandle(`webhook-${d.id}`).fetchHistory()),
    );
    expect(JSON.stringify(histories)).not.toContain(flaky.secret);
  });

  test('a receiver that always fails gets a dead letter after the retry limit; a 4xx is final at once', async () => {
    const dead3 = await eventually(async () => {
      const mine = (await deliveries(dead.id)).items.filter((d) => d.intentId === intentId);
      return mine.length === 2 && mine.every((d) => d.status === 'DEAD') ? mine : undefined;
    }, 'the always-failing deliveries to be dead-lettered');
    for (const delivery of dead3) {
      expect(delivery.attempts.map((a) => [a.attempt, a.statusCode])).toEqual([
        [1, 503],
        [2, 503],
        [3, 503],
      ]);
      expect(delivery).toMatchObject({ lastStatusCode: 503, deliveredAt: null, deadAt: expect.any(String) });
      expect(delivery.lastError).toMatch(/^HTTP 503/);
    }
    expect(receiver.requestsTo('down').filter((r) => r.body?.intentId === intentId)).toHaveLength(6);
    expect(receiver.requestsTo('down').every((r) => r.signatureValid)).toBe(true);

    const [gone] = await eventually(async () => {
      const mine = (await deliveries(rejecting.id, '?status=DEAD')).items.filter((d) => d.intentId === intentId);
      return mine.length === 1 ? mine : undefined;
    }, 'the rejected delivery to be dead-lettered');
    expect(gone!.attempts.map((a) => a.statusCode)).toEqual([410]);
    expect(gone!.lastError).toMatch(/^HTTP 410/);
    const outcome = await stack.temporal.workflow.getHandle(`webhook-${gone!.id}`).result();
    expect(outcome).toEqual({ status: 'DEAD' });
  });

  test('redeliver sends the same event id again, as a new delivery the receiver deduplicates', async () => {
    const log = await deliveries(flaky.id, '?limit=100');
    const original = log.items.find((d) => d.intentId === intentId && d.eventType === 'capsule.ready')!;
    const path = `${stack.apiUrl}/webhooks/${flaky.id}/deliveries/${original.id}/redeliver`;
    expect((await call(path, { method: 'POST', token: keys.submitter })).status).toBe(403);
    const other = `${stack.apiUrl}/webhooks/${dead.id}/deliveries/${original.id}/redeliver`;
    expect((await call(other, { method: 'POST', token: keys.admin })).status).toBe(404);

    const redelivered = await call(path, { method: 'POST', token: keys.admin });
    expect(redelivered.status).toBe(202);
    expect(redelivered.body).toMatchObject({ eventId: original.eventId, redelivery: 1, status: 'PENDING' });
    expect(redelivered.body.id).not.toBe(original.id);

    await eventually(
      async () => (receiver.duplicates('flaky').includes(original.eventId) ? true : undefined),
      'the redelivered event at the receiver',
    );
    expect(receiver.duplicates('flaky')).toEqual([original.eventId]);
    const again = await eventually(async () => {
      const found = (await deliveries(flaky.id, '?limit=100')).items.find((d) => d.id === redelivered.body.id);
      return found?.status === 'DELIVERED' ? found : undefined;
    }, 'the redelivery to be logged');
    // The receiver had already taken this id: it accepts at once (and drops it as a duplicate).
    expect(again.attempts.map((a) => a.statusCode)).toEqual([204]);
  });
});

test('a delivery survives its worker stopping between retries, and still arrives once', async () => {
  // Fails twice; the worker is stopped as soon as the first failure has been answered.
  const endpoint = receiver.endpoint('restart', failFirst(2));
  const hook = await subscribeEndpoint('restart', endpoint, { events: ['intent.submitted'] });
  const firstFailure = new Promise<void>((resolve) => {
    const off = receiver.onRequest((request) => {
      if (request.endpoint === 'restart' && request.status === 500) {
        off();
        resolve();
      }
    });
  });
  const intentId = await submitIntent();
  await firstFailure;
  await worker!.stop();
  worker = undefined;
  const whileDown = receiver.requestsTo('restart').length;
  worker = await startWorker(stack);

  const [event] = await eventually(async () => {
    const got = ofIntent(receiver.accepted('restart'), intentId);
    return got.length === 1 ? got : undefined;
  }, 'the event after the restart');
  expect(event.type).toBe('intent.submitted');
  // The accepted attempt came from the restarted worker: at most the two failures happened before.
  expect(whileDown).toBeLessThan(3);
  expect(receiver.duplicates('restart')).toEqual([]);
  expect(receiver.requestsTo('restart').map((r) => r.status)).toEqual([500, 500, 204]);
  // The receiver answers before the attempt is logged: wait for the log.
  const delivery = await eventually(async () => {
    const [found] = (await deliveries(hook.id)).items;
    return found?.status === 'DELIVERED' ? found : undefined;
  }, 'the delivery to be logged as delivered');
  expect(delivery.eventId).toBe(event.id);
  expect(delivery.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);

  // The intent itself is not under test here: stop it.
  const cancelled = await call(`${stack.apiUrl}/intents/${intentId}/cancel`, { body: {}, token: keys.submitter });
  expect([202, 409]).toContain(cancelled.status);
});
