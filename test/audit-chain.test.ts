import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Command } from 'commander';
import express from 'express';
import { Client } from 'pg';
import {
  appendAuditEvent,
  appendAuditEvents,
  auditEventView,
  readIntentChain,
  type AuditAppend,
} from '../adapters/db/audit';
import { createDatabase, type Database } from '../adapters/db/client';
import { ensureDatabase, migrate, prepareDatabase, readMigrations } from '../adapters/db/migrate';
import { recordIntent } from '../adapters/db/read-model';
import { problemHandler } from '../api/problems';
import { auditRoutes } from '../api/routes/audit';
import type { ApiDependencies } from '../api/dependencies';
import { registerAudit } from '../cli/commands/audit';
import { CliError } from '../cli/errors';
import {
  hashAuditEvent,
  verifyChain,
  type AuditChainHeadView,
  type AuditEventView,
  type AuditTrailView,
} from '../contracts/audit-chain';
import type { Principal } from '../contracts/identity';

// The tamper-evident audit trail on a real PostgreSQL database of its own (migrated from scratch):
// chaining, idempotency, concurrency, the append-only triggers, and detection of rows edited or
// removed behind the application's back (as a superuser bypassing triggers would).

const base = new URL(process.env.DATABASE_URL!);
const created: string[] = [];
function freshDatabaseUrl(): string {
  const name = `qlp_audit_${randomBytes(4).toString('hex')}`;
  created.push(name);
  return Object.assign(new URL(base), { pathname: `/${name}` }).toString();
}

let url: string;
let db: Database;

beforeAll(async () => {
  url = freshDatabaseUrl();
  await prepareDatabase(url);
  db = createDatabase(url, { maxConnections: 10 });
});

afterAll(async () => {
  await db?.$disconnect();
  const admin = new Client({ connectionString: Object.assign(new URL(base), { pathname: '/postgres' }).toString() });
  await admin.connect();
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
});

/** A plain connection (the test user is a superuser), optionally bypassing triggers like an attacker would. */
async function sql<T extends object>(
  statement: string,
  params: unknown[] = [],
  options: { bypassTriggers?: boolean; databaseUrl?: string } = {},
): Promise<T[]> {
  const client = new Client({ connectionString: options.databaseUrl ?? url });
  await client.connect();
  try {
    if (options.bypassTriggers) await client.query('SET session_replication_role = replica');
    return (await client.query<T>(statement, params)).rows;
  } finally {
    await client.end();
  }
}

async function newIntent(tenant = 'acme', database = db): Promise<string> {
  const id = randomUUID();
  await database.intent.create({
    data: { id, tenant, text: 'audit test', workflowId: `intent-${id}`, runId: 'run-1' },
  });
  return id;
}

const intentEvent = (intentId: string, n: number, tenant = 'acme'): AuditAppend => ({
  eventKey: `${intentId}:run-1:${n}`,
  tenant,
  intentId,
  type: `intent.step_${n}`,
  actor: 'workflow',
  data: { n, nested: { b: 2, a: [1, 'x', null] } },
});

async function verified(intentId: string) {
  const { events, head } = await readIntentChain(db, intentId, { tenant: { in: ['acme', 'other'] } });
  return { events, head, verification: verifyChain(events, head ? [head] : []) };
}

describe('appending', () => {
  test('events chain in order, and a retried event key records nothing and changes nothing', async () => {
    const intentId = await newIntent();
    const first = await appendAuditEvents(db, [intentEvent(intentId, 1), intentEvent(intentId, 2)]);
    expect(first.map((e) => [e.seq, e.appended])).toEqual([
      [1, true],
      [2, true],
    ]);
    const before = await verified(intentId);
    // A retried activity sends the same keys again (in a transaction of its own, or alone).
    const retried = await appendAuditEvents(db, [intentEvent(intentId, 1), intentEvent(intentId, 2)]);
    expect(retried).toEqual(first.map((e) => ({ ...e, appended: false })));
    await appendAuditEvent(db, intentEvent(intentId, 3));
    await appendAuditEvent(db, intentEvent(intentId, 3));

    const { events, head, verification } = await verified(intentId);
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'intent.step_1'],
      [2, 'intent.step_2'],
      [3, 'intent.step_3'],
    ]);
    expect(events.slice(0, 2)).toEqual(before.events);
    expect(events[0]!.prevHash).toBeNull();
    expect(events[1]!.prevHash).toBe(events[0]!.hash);
    expect(events[2]!.prevHash).toBe(events[1]!.hash);
    expect(events.every((e) => e.chain === `intent:${intentId}` && e.tenant === 'acme')).toBe(true);
    expect(head).toEqual({ chain: `intent:${intentId}`, tenant: 'acme', seq: 3, hash: events[2]!.hash });
    expect(verification).toMatchObject({ ok: true, checked: 3, legacy: 0, problems: [] });
    // The hash is over the stored content: recomputing it from the exported row gives the stored hash.
    expect(hashAuditEvent(events[1]!)).toBe(events[1]!.hash);
  });

  test("recordIntent writes the step's event on the intent's chain, once, with the intent's tenant", async () => {
    const intentId = await newIntent('other');
    const step = (seq: number, status: 'PLANNING' | 'EXECUTING') => ({
      intentId,
      seq,
      run: { id: 'run-1', at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString() },
      status,
      audit: { type: `intent.${status.toLowerCase()}`, actor: 'workflow', data: { dropped: undefined } },
    });
    await recordIntent(db, step(1, 'PLANNING'));
    await recordIntent(db, step(1, 'PLANNING')); // a duplicate: no new event
    await recordIntent(db, step(2, 'EXECUTING'));
    const { events, verification } = await verified(intentId);
    expect(events.map((e) => [e.eventKey, e.seq, e.tenant, e.data])).toEqual([
      [`${intentId}:run-1:1`, 1, 'other', { status: 'PLANNING' }],
      [`${intentId}:run-1:2`, 2, 'other', { status: 'EXECUTING' }],
    ]);
    expect(verification.ok).toBe(true);
  });

  test("the read model's writes and the API's appends to one intent, side by side, never deadlock", async () => {
    // The read model holds the intent row while it appends; the API's refusal events take it first too.
    const intentId = await newIntent('acme');
    const step = (seq: number) => ({
      intentId,
      seq,
      run: { id: 'run-1', at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString() },
      status: 'AWAITING_APPROVAL' as const,
      audit: { type: 'intent.step', actor: 'workflow', data: {} },
    });
    await Promise.all(
      Array.from({ length: 15 }, (_, i) => [
        recordIntent(db, step(i + 1)),
        appendAuditEvent(db, { ...intentEvent(intentId, 100 + i), tenant: 'acme' }),
      ]).flat(),
    );
    const { events, verification } = await verified(intentId);
    // Every API event is there; read-model steps that arrived after a later one are superseded, as always.
    expect(events.filter((e) => e.type.startsWith('intent.step_'))).toHaveLength(15);
    expect(events.some((e) => e.type === 'intent.step')).toBe(true);
    expect(verification.ok).toBe(true);
  });

  test('20 concurrent appends to one new chain (each sent twice) give a gap-free, valid chain', async () => {
    const intentId = await newIntent();
    const events = Array.from({ length: 20 }, (_, i) => intentEvent(intentId, i + 1));
    const results = await Promise.all([...events, ...events].map((event) => appendAuditEvent(db, event)));
    expect(results.filter((r) => r.appended)).toHaveLength(20);
    const { events: chain, head, verification } = await verified(intentId);
    expect(chain.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(chain.map((e) => e.eventKey)).size).toBe(20);
    expect(head?.seq).toBe(20);
    expect(verification).toMatchObject({ ok: true, checked: 20 });
  });

  test('tenant and auth events without an intent chain on their tenant, unknown tenants on the global chain', async () => {
    const tenant = `t-${randomBytes(3).toString('hex')}`;
    const at = new Date('2026-12-03T10:00:00.123Z');
    const keyCreated = await appendAuditEvent(db, {
      eventKey: `auth.key_created:${randomUUID()}`,
      tenant,
      type: 'auth.key_created',
      actor: 'key:admin1',
      data: { prefix: 'abc123', roles: ['submitter'] },
      at,
    });
    const loginFailed = await appendAuditEvent(db, {
      eventKey: `auth.login_failed:${randomUUID()}`,
      tenant,
      type: 'auth.login_failed',
      actor: 'key:zzz',
      data: { reason: 'unknown key' },
    });
    const quota = await appendAuditEvent(db, {
      eventKey: `quota.refused:${randomUUID()}`,
      tenant,
      type: 'quota.refused',
      actor: 'key:abc123',
    });
    const unknownTenant = await appendAuditEvent(db, {
      eventKey: `auth.login_failed:${randomUUID()}`,
      tenant: null,
      type: 'auth.login_failed',
      actor: 'anonymous',
      data: { reason: 'malformed credentials' },
    });
    expect([keyCreated, loginFailed, quota].map((e) => [e.chain, e.seq])).toEqual([
      [`tenant:${tenant}`, 1],
      [`tenant:${tenant}`, 2],
      [`tenant:${tenant}`, 3],
    ]);
    expect(unknownTenant.chain).toBe('global');

    const rows = await db.auditEvent.findMany({ where: { tenant }, orderBy: { id: 'asc' } });
    expect(rows.map((r) => r.intentId)).toEqual([null, null, null]);
    expect(rows[0]!.createdAt.toISOString()).toBe('2026-12-03T10:00:00.123Z');
    const heads = await db.auditChainHead.findMany({ where: { chain: { in: [`tenant:${tenant}`, 'global'] } } });
    const globalRows = await db.auditEvent.findMany({ where: { chain: 'global' } });
    expect(globalRows.every((r) => r.tenant === null)).toBe(true);
    expect(verifyChain([...rows, ...globalRows].map(auditEventView), heads)).toMatchObject({ ok: true, problems: [] });
  });

  test("an event whose tenant is not its intent chain's is refused, and nothing is written", async () => {
    const intentId = await newIntent();
    await appendAuditEvent(db, intentEvent(intentId, 1));
    await expect(appendAuditEvent(db, intentEvent(intentId, 2, 'other'))).rejects.toThrow(
      /tenant other is not the tenant of intent:/,
    );
    expect(await db.auditEvent.count({ where: { intentId } })).toBe(1);
  });
});

describe('the database refuses', () => {
  let intentId: string;
  let id: bigint;
  beforeAll(async () => {
    intentId = await newIntent();
    await appendAuditEvents(db, [intentEvent(intentId, 1), intentEvent(intentId, 2)]);
    id = (await db.auditEvent.findFirstOrThrow({ where: { intentId }, orderBy: { id: 'asc' } })).id;
  });

  test('UPDATE, DELETE and TRUNCATE of audit events', async () => {
    await expect(sql('UPDATE audit_events SET actor = $1 WHERE id = $2', ['mallory', id])).rejects.toThrow(
      'audit_events is append-only: UPDATE refused',
    );
    await expect(sql('DELETE FROM audit_events WHERE id = $1', [id])).rejects.toThrow(
      'audit_events is append-only: DELETE refused',
    );
    await expect(sql('TRUNCATE audit_events CASCADE')).rejects.toThrow('append-only: TRUNCATE refused');
    await expect(db.auditEvent.update({ where: { id }, data: { actor: 'mallory' } })).rejects.toThrow(/append-only/);
    await expect(db.auditEvent.deleteMany({ where: { intentId } })).rejects.toThrow(/append-only/);
    // Nor can the intent be deleted from under its trail (it used to cascade).
    await expect(db.intent.delete({ where: { id: intentId } })).rejects.toThrow();
    expect((await verified(intentId)).verification).toMatchObject({ ok: true, checked: 2 });
  });

  test('moving a head back or deleting it', async () => {
    const chain = `intent:${intentId}`;
    await expect(sql('UPDATE audit_chain_heads SET seq = 1 WHERE chain = $1', [chain])).rejects.toThrow(
      /only advances by one event/,
    );
    await expect(sql('DELETE FROM audit_chain_heads WHERE chain = $1', [chain])).rejects.toThrow(
      'audit_chain_heads is append-only: DELETE refused',
    );
  });

  test('a row that does not extend its chain, or has no hash', async () => {
    const [row] = await sql<{ hash: string }>('SELECT hash FROM audit_chain_heads WHERE chain = $1', [
      `intent:${intentId}`,
    ]);
    const insert = (seq: number, prevHash: string | null, hash: string | null) =>
      sql(
        `INSERT INTO audit_events (event_key, tenant, intent_id, chain, chain_seq, prev_hash, hash, type, actor, created_at)
         VALUES ($1, 'acme', $2, $3, $4, $5, $6, 'forged', 'mallory', now())`,
        [randomUUID(), intentId, `intent:${intentId}`, seq, prevHash, hash],
      );
    await expect(insert(4, row!.hash, 'f'.repeat(64))).rejects.toThrow(/does not extend the chain's head/);
    await expect(insert(3, 'e'.repeat(64), 'f'.repeat(64))).rejects.toThrow(/does not extend the chain's head/);
    await expect(insert(3, row!.hash, null)).rejects.toThrow(/has no hash/);
  });
});

describe('tampering behind the application (superuser, triggers bypassed) is detected', () => {
  test('an edited row: by its id, whether or not its own hash was recomputed', async () => {
    const intentId = await newIntent();
    await appendAuditEvents(
      db,
      [1, 2, 3, 4].map((n) => intentEvent(intentId, n)),
    );
    const { events } = await verified(intentId);
    const target = events[1]!;

    await sql(
      `UPDATE audit_events SET data = jsonb_set(data, '{n}', '99'), actor = 'mallory' WHERE id = $1`,
      [target.id],
      { bypassTriggers: true },
    );
    const edited = (await verified(intentId)).verification;
    expect(edited.ok).toBe(false);
    expect(edited.problems).toEqual([
      expect.objectContaining({ eventId: target.id, seq: 2, problem: 'edited', chain: `intent:${intentId}` }),
    ]);

    // A smarter attacker recomputes the edited row's hash: the next event's link gives it away.
    const tampered = (await verified(intentId)).events[1]!;
    await sql('UPDATE audit_events SET hash = $1 WHERE id = $2', [hashAuditEvent(tampered), target.id], {
      bypassTriggers: true,
    });
    const relinked = (await verified(intentId)).verification;
    expect(relinked.problems).toEqual([
      expect.objectContaining({ eventId: events[2]!.id, seq: 3, problem: 'broken-link' }),
    ]);
  });

  test('a deleted last row (a truncated tail) is detected through the head', async () => {
    const intentId = await newIntent();
    await appendAuditEvents(
      db,
      [1, 2, 3].map((n) => intentEvent(intentId, n)),
    );
    const last = (await verified(intentId)).events[2]!;
    await sql('DELETE FROM audit_events WHERE id = $1', [last.id], { bypassTriggers: true });

    const { events, head, verification } = await verified(intentId);
    // The remaining rows are a perfectly valid chain on their own: only the head shows what is missing.
    expect(verifyChain(events).ok).toBe(true);
    expect(verification.ok).toBe(false);
    expect(verification.problems).toEqual([
      expect.objectContaining({ chain: `intent:${intentId}`, seq: 3, eventId: null, problem: 'truncated' }),
    ]);
    expect(head).toMatchObject({ seq: 3, hash: last.hash });
  });

  test('a deleted row in the middle is detected as missing and as a broken link', async () => {
    const intentId = await newIntent();
    await appendAuditEvents(
      db,
      [1, 2, 3].map((n) => intentEvent(intentId, n)),
    );
    const { events: before } = await verified(intentId);
    await sql('DELETE FROM audit_events WHERE id = $1', [before[1]!.id], { bypassTriggers: true });
    const { verification } = await verified(intentId);
    expect(verification.problems.map((p) => [p.problem, p.eventId])).toEqual([
      ['missing', before[2]!.id],
      ['broken-link', before[2]!.id],
    ]);
  });
});

describe('rows recorded before the chain', () => {
  test('are numbered on their intent chain, reported as not chained, and new events chain after them', async () => {
    // A database as it was before the chain: migrated up to the migration before it.
    const old = freshDatabaseUrl();
    const migrations = readMigrations();
    await ensureDatabase(old);
    await migrate(
      old,
      migrations.filter((m) => m.name < '20261203000000_audit_chain'),
    );
    const intentId = randomUUID();
    await sql(
      `INSERT INTO intents (id, tenant, text, workflow_id, updated_at) VALUES ($1, 'acme', 'old', $2, now())`,
      [intentId, `intent-${intentId}`],
      { databaseUrl: old },
    );
    for (const n of [1, 2]) {
      await sql(
        `INSERT INTO audit_events (event_key, intent_id, type, actor) VALUES ($1, $2, 'intent.old', 'workflow')`,
        [`${intentId}:${n}`, intentId],
        { databaseUrl: old },
      );
    }
    await migrate(old, migrations);

    const oldDb = createDatabase(old, { maxConnections: 2 });
    try {
      await appendAuditEvent(oldDb, intentEvent(intentId, 3));
      const { events, head } = await readIntentChain(oldDb, intentId, { tenant: { in: ['acme'] } });
      expect(events.map((e) => [e.seq, e.hash === null, e.prevHash])).toEqual([
        [1, true, null],
        [2, true, null],
        [3, false, null],
      ]);
      const verification = verifyChain(events, head ? [head] : []);
      expect(verification).toMatchObject({ ok: true, checked: 1, legacy: 2 });

      // Stripping a chained row's hash to pass it off as legacy does not work.
      await sql('UPDATE audit_events SET hash = NULL WHERE id = $1', [events[2]!.id], {
        bypassTriggers: true,
        databaseUrl: old,
      });
      const stripped = await readIntentChain(oldDb, intentId, { tenant: { in: ['acme'] } });
      expect(verifyChain(stripped.events, stripped.head ? [stripped.head] : []).problems).toEqual([
        expect.objectContaining({ problem: 'head-mismatch', seq: 3 }),
      ]);
    } finally {
      await oldDb.$disconnect();
    }
  });
});

describe('GET /audit and qlp audit', () => {
  let server: ReturnType<express.Express['listen']>;
  let apiBase: string;
  let principal: Principal;
  let intentId: string;

  beforeAll(async () => {
    const app = express();
    // Stands in for the authentication middleware.
    app.use((_req, res, next) => {
      res.locals.principal = principal;
      next();
    });
    app.use('/api/v1', auditRoutes({ db } as unknown as ApiDependencies));
    app.use(problemHandler);
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    intentId = await newIntent();
    await appendAuditEvents(
      db,
      [1, 2, 3].map((n) => intentEvent(intentId, n)),
    );
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    principal = { subject: 'key:aud1', name: 'auditor', tenants: ['acme'], roles: ['auditor'], method: 'api-key' };
  });

  const get = (path: string) => fetch(`${apiBase}/api/v1${path}`);

  test('an auditor gets the chain, its head and its verification', async () => {
    const response = await get(`/audit?intent=${intentId}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as AuditTrailView;
    expect(body.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(body.head).toMatchObject({ seq: 3, hash: body.events[2]!.hash });
    expect(body.verification).toMatchObject({ ok: true, checked: 3 });
  });

  test('JSON Lines export: one event per line', async () => {
    const response = await get(`/audit?intent=${intentId}&format=jsonl`);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await response.text()).trimEnd().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as AuditEventView).seq)).toEqual([1, 2, 3]);
  });

  test("another tenant's intent is a 404 like an unknown one; other roles get a 403; bad queries a 400", async () => {
    principal = { ...principal, tenants: ['other'] };
    const foreign = await get(`/audit?intent=${intentId}`);
    const unknown = await get(`/audit?intent=${randomUUID()}`);
    expect([foreign.status, unknown.status]).toEqual([404, 404]);
    expect(((await foreign.json()) as { detail: string }).detail).toBe(`intent ${intentId} does not exist`);

    principal = { ...principal, tenants: ['acme'], roles: ['submitter', 'approver'] };
    expect((await get(`/audit?intent=${intentId}`)).status).toBe(403);

    principal = { ...principal, roles: ['admin'] };
    const bad = await get('/audit?intent=nope&limit=5000&colour=red');
    expect(bad.status).toBe(400);
    const fields = ((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field).sort();
    expect(fields).toEqual(['query', 'query.intent', 'query.limit']);
  });

  test("without intent: the caller's tenants' events, a page at a time", async () => {
    const seen: AuditEventView[] = [];
    let after: string | null = null;
    do {
      const response = await get(`/audit?tenant=acme&limit=7${after ? `&after=${after}` : ''}`);
      const page = (await response.json()) as { events: AuditEventView[]; nextAfter: string | null };
      seen.push(...page.events);
      after = page.nextAfter;
    } while (after);
    expect(seen.length).toBe(await db.auditEvent.count({ where: { tenant: 'acme' } }));
    expect(seen.every((e) => e.tenant === 'acme')).toBe(true);
    expect(seen.map((e) => BigInt(e.id))).toEqual([...seen.map((e) => BigInt(e.id))].sort((a, b) => (a < b ? -1 : 1)));

    principal = { ...principal, tenants: ['nobody-here'] };
    expect(((await (await get('/audit?tenant=acme')).json()) as { events: unknown[] }).events).toEqual([]);
  });

  /** Runs `qlp audit …` in this process against the test API; its stdout and the error it threw. */
  async function qlp(...args: string[]): Promise<{ stdout: string; error?: CliError }> {
    const program = new Command('qlp').option('--api <url>').option('--json').exitOverride();
    registerAudit(program);
    for (const command of program.commands) command.exitOverride();
    let stdout = '';
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      stdout += String(chunk);
      return true;
    });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await program.parseAsync(['node', 'qlp', '--api', apiBase, 'audit', ...args]);
      return { stdout };
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      return { stdout, error };
    } finally {
      write.mockRestore();
      stderr.mockRestore();
    }
  }

  test('qlp audit verify recomputes the chain locally and names an edited row', async () => {
    const ok = await qlp('verify', intentId);
    expect(ok.error).toBeUndefined();
    const { events } = await verified(intentId);
    expect(ok.stdout).toBe(
      `audit chain of intent ${intentId} verified: 3 events, head 3 ${events[2]!.hash!.slice(0, 16)}\n`,
    );

    const exported = await qlp('export', '--intent', intentId);
    expect(
      exported.stdout
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as AuditEventView).id),
    ).toEqual(events.map((e) => e.id));

    await sql(`UPDATE audit_events SET data = '{"n": 2}' WHERE id = $1`, [events[0]!.id], { bypassTriggers: true });
    const failed = await qlp('verify', intentId);
    expect(failed.error?.exitCode).toBe(1);
    expect(failed.error?.message).toBe(`audit chain of intent ${intentId} FAILED verification: 1 problem(s)`);
    expect(failed.error?.details).toEqual([
      `edited at seq 1 (event ${events[0]!.id}): event ${events[0]!.id} (seq 1) does not match its hash: it was changed after it was recorded`,
    ]);
    // The server's answer says so too.
    const body = (await (await get(`/audit?intent=${intentId}`)).json()) as AuditTrailView;
    expect(body.verification.ok).toBe(false);
  });
});

describe('verifyChain on its own', () => {
  const event = (seq: number, prevHash: string | null, over: Partial<AuditEventView> = {}): AuditEventView => {
    const content = {
      id: String(seq),
      eventKey: `k${seq}`,
      chain: 'tenant:acme',
      seq,
      prevHash,
      tenant: 'acme',
      intentId: null,
      type: 't',
      actor: 'a',
      data: {},
      createdAt: '2026-12-03T00:00:00.000Z',
      ...over,
    };
    return { ...content, hash: hashAuditEvent(content) };
  };

  test('a head with no events left means the whole chain was removed', () => {
    const head: AuditChainHeadView = { chain: 'tenant:gone', tenant: 'gone', seq: 4, hash: 'a'.repeat(64) };
    expect(verifyChain([], [head]).problems).toEqual([expect.objectContaining({ problem: 'truncated', seq: 4 })]);
  });

  test('duplicates, a row on the wrong chain and key order of data do not confuse it', () => {
    const one = event(1, null, { data: { b: 1, a: 2 } });
    expect(hashAuditEvent({ ...one, data: { a: 2, b: 1 } })).toBe(one.hash);
    const two = event(2, one.hash);
    expect(verifyChain([two, one]).ok).toBe(true);
    expect(verifyChain([one, two, { ...two, id: '3' }]).problems.map((p) => p.problem)).toContain('duplicate');
    const misfiled = event(1, null, { chain: 'tenant:other' });
    expect(verifyChain([misfiled]).problems.map((p) => p.problem)).toEqual(['wrong-chain']);
  });
});
