import { randomUUID } from 'node:crypto';
import type { Role } from '../contracts/identity';
import { call, decide, type ApiResponse } from './support/api';
import {
  INTENT_TEXT,
  newKey,
  submitIntent,
  summary,
  terminateRunning,
  uniqueTenant,
  waitForIntent,
  waitForStatus,
  type TestKey,
} from './support/authz-helpers';
import { openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';

// Authorisation as an outsider sees it: every protected route of the REST API, called by every kind of
// caller, against real resources (an intent waiting at the gate, a completed intent's capsule, API keys).
//
// The contract: no credential (or a bad, revoked or expired one) → 401 with `WWW-Authenticate: Bearer`;
// a role that may not do something → 403; another tenant's intent, capsule, validation or audit trail
// answers exactly like an unknown id (404, same title), and another tenant's caller neither reads nor
// changes anything of tenant `default`.

let stack: TestStack;
let worker: RunningWorker;

const OTHER = uniqueTenant('other');
const roles: Role[] = ['submitter', 'approver', 'auditor', 'admin'];

/** What each role may do (the contract's table, written out here rather than imported). */
type Action = 'read' | 'submit' | 'decide' | 'cancel' | 'audit' | 'keys';
const mayDo: Record<Role, readonly Action[]> = {
  submitter: ['submit', 'read', 'cancel'],
  approver: ['read', 'decide'],
  auditor: ['read', 'audit'],
  admin: ['read', 'cancel', 'audit', 'keys'],
};

type Credential = 'anonymous' | 'garbage' | 'tampered' | 'revoked' | 'expired';
type Principal =
  | { label: string; kind: 'unauthenticated'; credential: Credential }
  | { label: string; kind: 'default' | 'other'; role: Role };

const principals: Principal[] = [
  ...(['anonymous', 'garbage', 'tampered', 'revoked', 'expired'] as const).map((credential): Principal => ({
    label: `${credential} credential`,
    kind: 'unauthenticated',
    credential,
  })),
  ...roles.map((role): Principal => ({ label: `default ${role}`, kind: 'default', role })),
  ...roles.map((role): Principal => ({ label: `other-tenant ${role}`, kind: 'other', role })),
];

/** The real resources the matrix aims at, made in beforeAll. */
interface Resources {
  /** An intent of tenant `default` waiting at the gate, and the digest its gate shows. */
  waiting: { id: string; workflowId: string; digest: string };
  /** A completed intent of tenant `default`, and its capsule. */
  completed: { id: string; capsuleId: string; capsuleSha256: string };
  /** A key of tenant `default` that refused DELETEs must leave working. */
  victim: TestKey;
  /** Single-role keys of tenant `default` and of the other tenant. */
  keys: Record<'default' | 'other', Record<Role, TestKey>>;
  credentials: Record<Credential, string | null>;
}
let res: Resources;

function tokenOf(principal: Principal): string | null {
  if (principal.kind === 'unauthenticated') return res.credentials[principal.credential];
  return res.keys[principal.kind][principal.role].key;
}

interface Request {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** A key the request made for itself (the allowed DELETE revokes a key of its own). */
  ownKey?: TestKey;
}

interface Row {
  route: Route;
  principal: Principal;
  expected: number | '2xx';
}

interface Route {
  name: string;
  action: Action;
  /**
   * How the route meets tenancy: `id` names a resource (foreign = unknown = 404); `list` lists the
   * caller's own; `tenant-body` names tenant `default` in its body (not the other tenant's to use: 403);
   * `global` is about the caller or the deployment.
   */
  scope: 'id' | 'list' | 'tenant-body' | 'global';
  success: number | '2xx';
  /** The request this row sends; an allowed write gets a target of its own, so it spoils nothing. */
  request(row: Row): Promise<Request>;
  /** The same request naming an id no one has (id routes). */
  unknown?(): Request;
  /** After a refused request: nothing of tenant `default` changed. */
  unchanged?(request: Request): Promise<void>;
  /** After an allowed request: it did what it says, for whom it says. */
  succeeded?(response: ApiResponse, request: Request, row: Row): Promise<void>;
  /** The allowed row runs after every other row (it decides the waiting intent). */
  allowedLast?: boolean;
}

const intentPath = (id: string) => `/intents/${id}`;
const decisionBody = () => ({ decision: 'approve', digest: res.waiting.digest });

/** The waiting intent is still waiting, with no approval recorded. */
async function waitingUntouched(): Promise<void> {
  const { status, body } = await call(`${stack.apiUrl}${intentPath(res.waiting.id)}`, { token: stack.keys.auditor });
  expect(status).toBe(200);
  expect({ status: body.status, gate: body.gate.state, approvals: body.gate.approvals ?? [] }).toEqual({
    status: 'AWAITING_APPROVAL',
    gate: 'open',
    approvals: [],
  });
  expect(body.gate.decision).toBeUndefined();
}

async function whoami(key: string): Promise<ApiResponse> {
  return call(`${stack.apiUrl}/whoami`, { token: key });
}

const routes: Route[] = [
  {
    name: 'GET /intents',
    action: 'read',
    scope: 'list',
    success: 200,
    request: async () => ({ method: 'GET', path: '/intents?limit=100' }),
    async succeeded(response, _request, row) {
      const tenants = new Set(response.body.items.map((item: { tenant: string }) => item.tenant));
      expect([...tenants]).toEqual(tenants.size ? [row.principal.kind === 'other' ? OTHER : 'default'] : []);
    },
  },
  {
    name: 'POST /intents',
    action: 'submit',
    scope: 'tenant-body',
    success: 202,
    request: async () => ({
      method: 'POST',
      path: '/intents',
      body: { text: INTENT_TEXT, tenant: 'default' },
      headers: { 'Idempotency-Key': `authz-matrix-${randomUUID()}` },
    }),
    async unchanged(request) {
      const key = request.headers!['Idempotency-Key'];
      expect(await stack.db.intent.count({ where: { idempotencyKey: key } })).toBe(0);
    },
    async succeeded(response) {
      expect(response.body.tenant).toBe('default');
      // Not needed beyond this row: stop it (as its submitter) rather than let it use the machine.
      await call(`${stack.apiUrl}${intentPath(response.body.id)}/cancel`, {
        body: { reason: 'authz matrix: submission row' },
        token: res.keys.default.submitter.key,
      });
    },
  },
  {
    name: 'GET /intents/{id}',
    action: 'read',
    scope: 'id',
    success: 200,
    request: async () => ({ method: 'GET', path: intentPath(res.waiting.id) }),
    unknown: () => ({ method: 'GET', path: intentPath(randomUUID()) }),
    async succeeded(response) {
      expect(response.body).toMatchObject({ id: res.waiting.id, tenant: 'default', text: INTENT_TEXT });
    },
  },
  {
    name: 'GET /intents/{id}/validation',
    action: 'read',
    scope: 'id',
    success: 200,
    request: async () => ({ method: 'GET', path: `${intentPath(res.waiting.id)}/validation` }),
    unknown: () => ({ method: 'GET', path: `${intentPath(randomUUID())}/validation` }),
    async succeeded(response) {
      expect(response.body.intentId).toBe(res.waiting.id);
    },
  },
  {
    name: 'GET /intents/{id}/drops/{gate}',
    action: 'read',
    scope: 'id',
    success: 200,
    request: async () => ({ method: 'GET', path: `${intentPath(res.waiting.id)}/drops/release` }),
    unknown: () => ({ method: 'GET', path: `${intentPath(randomUUID())}/drops/release` }),
    async succeeded(response) {
      expect(response.body).toMatchObject({ intentId: res.waiting.id, gate: 'release', version: 1 });
    },
  },
  {
    name: 'POST /intents/{id}/decision',
    action: 'decide',
    scope: 'id',
    success: 200,
    allowedLast: true,
    request: async () => ({ method: 'POST', path: `${intentPath(res.waiting.id)}/decision`, body: decisionBody() }),
    unknown: () => ({ method: 'POST', path: `${intentPath(randomUUID())}/decision`, body: decisionBody() }),
    unchanged: waitingUntouched,
    async succeeded(response) {
      expect(response.body).toMatchObject({ intentId: res.waiting.id, accepted: true });
      expect(response.body.decision).toMatchObject({ decision: 'approve', approver: res.keys.default.approver.name });
    },
  },
  {
    name: 'POST /intents/{id}/decision-token',
    action: 'decide',
    scope: 'id',
    success: '2xx',
    request: async () => ({
      method: 'POST',
      path: `${intentPath(res.waiting.id)}/decision-token`,
      body: decisionBody(),
    }),
    unknown: () => ({ method: 'POST', path: `${intentPath(randomUUID())}/decision-token`, body: decisionBody() }),
    unchanged: waitingUntouched,
    async succeeded(response) {
      expect(response.body).toMatchObject({
        token: expect.any(String),
        command: expect.any(String),
        expiresAt: expect.any(String),
      });
      // A token is not a decision: the intent still waits.
      await waitingUntouched();
    },
  },
  {
    name: 'POST /intents/{id}/cancel',
    action: 'cancel',
    scope: 'id',
    success: '2xx',
    async request(row) {
      // Refused rows aim at the waiting intent (which must stay as it is); an allowed one cancels its own.
      const id = allowed(row.expected)
        ? (await submitIntent(stack, res.keys.default.submitter.key)).id
        : res.waiting.id;
      return { method: 'POST', path: `${intentPath(id)}/cancel`, body: { reason: 'authz matrix' } };
    },
    unknown: () => ({ method: 'POST', path: `${intentPath(randomUUID())}/cancel`, body: { reason: 'authz matrix' } }),
    unchanged: waitingUntouched,
    async succeeded(_response, request) {
      const id = request.path.split('/')[2]!;
      await waitForStatus(stack, id, stack.keys.auditor, 'CANCELLED');
    },
  },
  {
    name: 'GET /capsules/{id}/download',
    action: 'read',
    scope: 'id',
    success: 200,
    request: async () => ({ method: 'GET', path: `/capsules/${res.completed.capsuleId}/download` }),
    unknown: () => ({ method: 'GET', path: `/capsules/${randomUUID()}/download` }),
    async succeeded(response) {
      expect(response.headers.get('x-checksum-sha256')).toBe(res.completed.capsuleSha256);
    },
  },
  {
    name: 'GET /llm/stats',
    action: 'read',
    scope: 'global',
    success: 200,
    request: async () => ({ method: 'GET', path: '/llm/stats' }),
  },
  {
    name: 'GET /whoami',
    action: 'read',
    scope: 'global',
    success: 200,
    request: async () => ({ method: 'GET', path: '/whoami' }),
    async succeeded(response, _request, row) {
      const principal = row.principal as Extract<Principal, { role: Role }>;
      expect(response.body).toMatchObject({
        name: res.keys[principal.kind][principal.role].name,
        tenants: [principal.kind === 'other' ? OTHER : 'default'],
        roles: [principal.role],
        method: 'api-key',
      });
    },
  },
  {
    name: 'POST /keys',
    action: 'keys',
    scope: 'tenant-body',
    success: 201,
    request: async () => ({
      method: 'POST',
      path: '/keys',
      body: { name: `authz-matrix-${randomUUID()}`, roles: ['auditor'], tenant: 'default', expiresInDays: 1 },
    }),
    async unchanged(request) {
      expect(await stack.db.apiKey.count({ where: { name: (request.body as { name: string }).name } })).toBe(0);
    },
    async succeeded(response) {
      expect(response.body).toMatchObject({ tenant: 'default', roles: ['auditor'], key: expect.any(String) });
      expect((await whoami(response.body.key)).body).toMatchObject({ tenants: ['default'], roles: ['auditor'] });
    },
  },
  {
    name: 'GET /keys',
    action: 'keys',
    scope: 'list',
    success: 200,
    request: async () => ({ method: 'GET', path: '/keys' }),
    async succeeded(response, _request, row) {
      const tenants = new Set(response.body.items.map((item: { tenant: string }) => item.tenant));
      expect([...tenants]).toEqual([row.principal.kind === 'other' ? OTHER : 'default']);
      expect(JSON.stringify(response.body)).not.toMatch(/secretHash|"key"/);
    },
  },
  {
    name: 'DELETE /keys/{id}',
    action: 'keys',
    scope: 'id',
    success: '2xx',
    async request(row) {
      const ownKey = allowed(row.expected)
        ? await newKey(stack, 'default', 'authz-matrix-doomed', ['auditor'])
        : undefined;
      return { method: 'DELETE', path: `/keys/${(ownKey ?? res.victim).id}`, ownKey };
    },
    unknown: () => ({ method: 'DELETE', path: `/keys/${randomUUID()}` }),
    async unchanged() {
      expect((await whoami(res.victim.key)).status).toBe(200);
    },
    async succeeded(_response, request) {
      expect((await whoami(request.ownKey!.key)).status).toBe(401);
    },
  },
  {
    name: 'GET /audit?intent={id}',
    action: 'audit',
    scope: 'id',
    success: 200,
    request: async () => ({ method: 'GET', path: `/audit?intent=${res.waiting.id}` }),
    unknown: () => ({ method: 'GET', path: `/audit?intent=${randomUUID()}` }),
    async succeeded(response) {
      expect(response.body.events.length).toBeGreaterThan(0);
      expect(response.body.events.every((e: { intentId: string }) => e.intentId === res.waiting.id)).toBe(true);
      expect(response.body.verification).toBeDefined();
    },
  },
  {
    name: 'GET /audit?intent={id}&format=jsonl',
    action: 'audit',
    scope: 'id',
    success: 200,
    request: async () => ({ method: 'GET', path: `/audit?intent=${res.waiting.id}&format=jsonl` }),
    unknown: () => ({ method: 'GET', path: `/audit?intent=${randomUUID()}&format=jsonl` }),
    async succeeded(response) {
      // One event per line (a single line parses as one JSON object).
      const events: { intentId: string }[] =
        typeof response.body === 'string'
          ? response.body
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line))
          : [response.body];
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((e) => e.intentId === res.waiting.id)).toBe(true);
    },
  },
];

function expectedFor(route: Route, principal: Principal): number | '2xx' {
  if (principal.kind === 'unauthenticated') return 401;
  if (!mayDo[principal.role].includes(route.action)) return 403;
  if (principal.kind === 'default') return route.success;
  return { id: 404, list: 200, 'tenant-body': 403, global: 200 }[route.scope];
}

const allowed = (expected: number | '2xx') => expected === '2xx' || expected < 300;

const rows: Row[] = routes
  .flatMap((route) => principals.map((principal) => ({ route, principal, expected: expectedFor(route, principal) })))
  // Stable: the decision that approves the waiting intent comes after everything else aimed at it.
  .sort((a, b) => Number(isLast(a)) - Number(isLast(b)));

function isLast(row: Row): boolean {
  return !!row.route.allowedLast && allowed(row.expected);
}

/** Every 404 title seen per route (foreign ids and unknown ids alike): one each, at the end. */
const notFoundTitles = new Map<string, Set<string>>();

function send(request: Request, token: string | null): Promise<ApiResponse> {
  return call(`${stack.apiUrl}${request.path}`, {
    method: request.method,
    body: request.body,
    headers: request.headers,
    token,
  });
}

function expectStatus(response: ApiResponse, expected: number | '2xx') {
  const ok = expected === '2xx' ? response.status >= 200 && response.status < 300 : response.status === expected;
  expect(ok ? expected : summary(response)).toBe(expected);
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** The response body as text, with the ids the request itself named (which a 404 may echo) as `<id>`. */
function bodyWithoutEcho(response: ApiResponse, request: Request): string {
  let raw = JSON.stringify(response.body ?? '');
  for (const id of request.path.match(UUID) ?? []) raw = raw.replaceAll(id, '<id>');
  return raw;
}

/**
 * Nothing of tenant `default` in a response: not the intents' ids, their text, the capsule or a key —
 * beyond echoing the id the caller sent (the twin request with an unknown id shows the echo is all it is).
 */
function expectNoLeak(response: ApiResponse, request: Request) {
  const headers = [...response.headers.entries()].map((h) => h.join(': ')).join('\n');
  const raw = `${bodyWithoutEcho(response, request)}\n${headers}`;
  for (const secret of [
    res.waiting.id,
    res.completed.id,
    res.completed.capsuleId,
    INTENT_TEXT,
    res.victim.id,
    res.victim.name,
  ]) {
    expect(raw).not.toContain(secret);
  }
}

function recordNotFound(route: Route, response: ApiResponse) {
  if (response.status !== 404) return;
  const titles = notFoundTitles.get(route.name) ?? new Set<string>();
  titles.add(String(response.body?.title));
  notFoundTitles.set(route.name, titles);
}

beforeAll(async () => {
  stack = await openStack('authz-matrix');
  worker = await startWorker(stack);
  const keysOf = async (tenant: string) =>
    Object.fromEntries(
      await Promise.all(roles.map(async (role) => [role, await newKey(stack, tenant, `matrix-${role}`, [role])])),
    ) as Record<Role, TestKey>;

  // Two intents of tenant `default`, run together: one stays at the gate, one is approved for its capsule.
  const [waiting, completed] = await Promise.all([
    submitIntent(stack, stack.keys.submitter),
    submitIntent(stack, stack.keys.submitter),
  ]);
  const [keysDefault, keysOther, victim, revoked, expired] = await Promise.all([
    keysOf('default'),
    keysOf(OTHER),
    newKey(stack, 'default', 'matrix-victim', ['auditor']),
    newKey(stack, 'default', 'matrix-revoked', roles),
    newKey(stack, 'default', 'matrix-expired', roles, new Date(Date.now() - 60_000)),
  ]);
  const revocation = await call(`${stack.apiUrl}/keys/${revoked.id}`, { method: 'DELETE', token: stack.keys.admin });
  if (revocation.status >= 300) throw new Error(`could not revoke a key: ${summary(revocation)}`);
  const sound = keysDefault.auditor.key;
  const tampered = sound.slice(0, -1) + (sound.endsWith('A') ? 'B' : 'A');

  const [waitingView] = await Promise.all([
    waitForStatus(stack, waiting.id, stack.keys.auditor, 'AWAITING_APPROVAL'),
    waitForStatus(stack, completed.id, stack.keys.auditor, 'AWAITING_APPROVAL'),
  ]);
  const approval = await decide(stack.apiUrl, completed.id, { decision: 'approve' }, stack.keys.approver);
  if (approval.status !== 200) throw new Error(`approving the capsule's intent: ${summary(approval)}`);
  const done = await waitForIntent(
    stack,
    completed.id,
    stack.keys.auditor,
    (view) => view.status === 'COMPLETED' && view.capsule,
    'COMPLETED with a capsule',
  );

  res = {
    waiting: { ...waiting, digest: waitingView.gate.digest },
    completed: { id: completed.id, capsuleId: done.capsule.id, capsuleSha256: done.capsule.sha256 },
    victim,
    keys: { default: keysDefault, other: keysOther },
    credentials: {
      anonymous: null,
      garbage: 'not-a-real-key',
      tampered,
      revoked: revoked.key,
      expired: expired.key,
    },
  };
  expect(res.waiting.digest).toMatch(/^[0-9a-f]{64}$/);
});

afterAll(async () => {
  await terminateRunning(stack, 'authz matrix finished');
  await worker?.stop();
  await stack?.close();
});

describe(`authorisation matrix: ${routes.length} routes × ${principals.length} principals = ${rows.length} cases`, () => {
  test.each(rows.map((row) => [`${row.route.name} as ${row.principal.label} → ${row.expected}`, row] as const))(
    '%s',
    async (_title, row) => {
      const { route, principal, expected } = row;
      const token = tokenOf(principal);
      const request = await route.request(row);
      const response = await send(request, token);
      expectStatus(response, expected);
      recordNotFound(route, response);

      if (response.status === 401) {
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      }
      if (response.status >= 400) {
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }
      if (principal.kind !== 'default') expectNoLeak(response, request);

      if (route.unknown) {
        const unknownRequest = route.unknown();
        if (principal.kind !== 'default') {
          // A foreign id answers exactly as an id nobody has: same status, same body but for the echoed id.
          const unknown = await send(unknownRequest, token);
          recordNotFound(route, unknown);
          expect({ status: response.status, body: bodyWithoutEcho(response, request) }).toEqual({
            status: unknown.status,
            body: bodyWithoutEcho(unknown, unknownRequest),
          });
        } else if (mayDo[principal.role].includes(route.action)) {
          const unknown = await send(unknownRequest, token);
          expect(summary(unknown)).toMatch(/^404 /);
          recordNotFound(route, unknown);
        }
      }

      if (allowed(expected)) await route.succeeded?.(response, request, row);
      else await route.unchanged?.(request);
    },
  );
});

test('a 404 reads the same for a foreign id as for an unknown one, on every route that names an id', () => {
  const idRoutes = routes.filter((route) => route.scope === 'id').map((route) => route.name);
  const titles = Object.fromEntries(idRoutes.map((name) => [name, [...(notFoundTitles.get(name) ?? [])]]));
  for (const name of idRoutes)
    expect({ route: name, titles: titles[name]!.length }).toEqual({ route: name, titles: 1 });
});

test('after the matrix, the waiting intent was decided once, by the approver of its own tenant', async () => {
  const view = await waitForIntent(
    stack,
    res.waiting.id,
    stack.keys.auditor,
    (v) => v.gate?.state === 'decided',
    'the gate to be decided',
  );
  expect(view.gate.decision.approvals.map((a: { name: string; tenants: string[] }) => [a.name, a.tenants])).toEqual([
    [res.keys.default.approver.name, ['default']],
  ]);
});

test('a revoked key is refused with 401 from the moment it is revoked', async () => {
  const key = await newKey(stack, 'default', 'authz-revoke-me', ['auditor']);
  expect((await whoami(key.key)).status).toBe(200);
  const revoked = await call(`${stack.apiUrl}/keys/${key.id}`, { method: 'DELETE', token: stack.keys.admin });
  expect(revoked.status === 200 || revoked.status === 204 ? 'revoked' : summary(revoked)).toBe('revoked');
  const refused = await whoami(key.key);
  expect(summary(refused)).toMatch(/^401 /);
  expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const listed = await call(`${stack.apiUrl}/keys`, { token: stack.keys.admin });
  expect(listed.body.items.find((item: { id: string }) => item.id === key.id)?.revokedAt).toEqual(expect.any(String));
});

test('an expired key is refused with 401, whatever its roles', async () => {
  const expired = await newKey(stack, 'default', 'authz-expired', roles, new Date(Date.now() - 1000));
  for (const path of ['/whoami', intentPath(res.waiting.id), `/audit?intent=${res.waiting.id}`, '/keys']) {
    const response = await call(`${stack.apiUrl}${path}`, { token: expired.key });
    expect(`${path}: ${summary(response)}`).toMatch(new RegExp(`^${path.replace(/[?]/g, '\\?')}: 401 `));
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  }
});

test('GET /health and GET /openapi.json need no credential', async () => {
  for (const path of ['/health', '/openapi.json']) {
    const response = await call(`${stack.apiUrl}${path}`, { token: null });
    expect(`${path}: ${summary(response)}`).toMatch(new RegExp(`^${path}: 200 `));
  }
});
