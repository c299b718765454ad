import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { keyIdOf } from '../capsule/dsse';
import { SigningKeyList, VerificationResult } from '../contracts/capsule';
import { CapsuleDetailView, CapsulePage } from '../contracts/views';
import type { Prisma } from '../generated/prisma/client';
import { call, decide, setDefaultToken } from './support/api';
import { createStackKeys, eventually, openStack, startWorker, type StackKeys, type TestStack } from './support/stack';

// The capsule API against the real stack: listing (tenant-scoped, keyset pages, filters), one capsule with
// its versions, signers and a fresh verification of the stored archive, verifying an upload, signing keys.
// Rows are inserted for tenants of this file's own; one intent runs end to end for a real signed capsule.

const TENANT = 'capsule-api';
const OTHER = 'capsule-api-other';
const E2E = 'capsule-api-e2e';

let stack: TestStack;
let keys: StackKeys;
let otherKeys: StackKeys;

/** An ed25519 public key as the signing_keys table holds it. */
function publicKey(): { keyId: string; pem: string } {
  const { publicKey: key } = generateKeyPairSync('ed25519');
  return { keyId: keyIdOf(key), pem: key.export({ type: 'spki', format: 'pem' }).toString() };
}

const activeKey = publicKey();
const retiredKey = publicKey();

async function insertIntent(tenant: string): Promise<string> {
  const id = randomUUID();
  await stack.db.intent.create({
    data: { id, tenant, text: 'capsule api test', status: 'COMPLETED', workflowId: `capsule-api-${id}` },
  });
  return id;
}

const minutes = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 60_000);

async function insertCapsule(
  intentId: string,
  version: number,
  createdAt: Date,
  columns: Partial<Prisma.CapsuleUncheckedCreateInput> = {},
): Promise<string> {
  const id = randomUUID();
  await stack.db.capsule.create({
    data: {
      id,
      intentId,
      version,
      bucket: stack.config.s3.bucket,
      // Nothing is stored there: GET /capsules/:id reports the archive missing.
      objectKey: `capsules/${intentId}/${intentId}-v${version}.tar.gz`,
      sha256: '0'.repeat(64),
      sizeBytes: 1000n + BigInt(version),
      fileCount: 3,
      createdAt,
      ...columns,
    },
  });
  return id;
}

const metadata = (name: string) => ({
  name,
  description: `${name} service`,
  version: '1.0.0',
  technologies: ['typescript'],
  dependencies: [{ name: 'zod', version: '4.0.0', scope: 'runtime' as const }],
  securityRisk: 'low' as const,
  qualityScore: 87,
  tags: ['billing'],
});

/** The seven capsules of tenant TENANT, by name; c6 and c7 share a creation time (id breaks the tie). */
const ids: Record<string, string> = {};
const intents: Record<string, string> = {};
let otherCapsule: string;

beforeAll(async () => {
  stack = await openStack('capsule-api');
  keys = await createStackKeys(stack.db, 'capsule-api', TENANT);
  otherKeys = await createStackKeys(stack.db, 'capsule-api-other', OTHER);
  setDefaultToken(keys.submitter);
  await stack.db.signingKey.createMany({
    data: [
      {
        keyId: retiredKey.keyId,
        algorithm: 'ed25519',
        publicKeyPem: retiredKey.pem,
        createdAt: new Date('2001-01-01T00:00:00Z'),
        retiredAt: new Date('2001-06-01T00:00:00Z'),
      },
      {
        keyId: activeKey.keyId,
        algorithm: 'ed25519',
        publicKeyPem: activeKey.pem,
        createdAt: new Date('2001-06-01T00:00:00Z'),
      },
    ],
  });
  for (const name of ['i1', 'i2', 'i3']) intents[name] = await insertIntent(TENANT);
  const v2 = { format: 'quantumcapsule/v2', keyId: activeKey.keyId };
  ids.c1 = await insertCapsule(intents.i1!, 1, minutes(0));
  ids.c2 = await insertCapsule(intents.i1!, 2, minutes(1), {
    ...v2,
    verdict: 'passed',
    frameworks: { HIPAA: 'pass', SOC2: 'pass' },
    metadata: metadata('billing'),
  });
  ids.c3 = await insertCapsule(intents.i2!, 1, minutes(2), {
    ...v2,
    keyId: retiredKey.keyId,
    verdict: 'failed',
    frameworks: { HIPAA: 'fail' },
  });
  ids.c4 = await insertCapsule(intents.i2!, 2, minutes(3), {
    ...v2,
    verdict: 'not_assessed',
    frameworks: { HIPAA: 'not_assessed', GDPR: 'pass' },
  });
  ids.c5 = await insertCapsule(intents.i3!, 1, minutes(4), { ...v2, verdict: 'passed', frameworks: { SOC2: 'fail' } });
  ids.c6 = await insertCapsule(intents.i3!, 2, minutes(5), { ...v2, verdict: 'passed', frameworks: {} });
  ids.c7 = await insertCapsule(intents.i3!, 3, minutes(5), {
    ...v2,
    verdict: 'passed',
    frameworks: { GDPR: 'not_assessed' },
  });
  otherCapsule = await insertCapsule(await insertIntent(OTHER), 1, minutes(2), { ...v2, verdict: 'passed' });
});

afterAll(async () => {
  await stack?.close();
});

/** GET /capsules as TENANT's submitter; the ids of the items, in order. */
async function list(query: Record<string, string>, token = keys.submitter) {
  const response = await call(`${stack.apiUrl}/capsules?${new URLSearchParams(query).toString()}`, { token });
  expect(response.status).toBe(200);
  const page = CapsulePage.parse(response.body);
  return { page, ids: page.items.map((item) => item.id) };
}

const named = (...names: string[]) => names.map((name) => ids[name]!);
/** Newest first: c7 and c6 share a time, so the larger id comes first. */
const newestFirst = () => [...[ids.c7!, ids.c6!].sort().reverse(), ...named('c5', 'c4', 'c3', 'c2', 'c1')];

test('pages: newest first, three pages of three, no duplicates, stable while new capsules arrive', async () => {
  const first = await list({ limit: '3' });
  expect(first.ids).toEqual(newestFirst().slice(0, 3));
  // A capsule arrives between pages: it is newer than the cursor, so the later pages do not shift.
  const arrived = await insertCapsule(intents.i1!, 3, new Date(), { format: 'quantumcapsule/v2' });
  const second = await list({ limit: '3', cursor: first.page.nextCursor! });
  const third = await list({ limit: '3', cursor: second.page.nextCursor! });
  expect(third.page.nextCursor).toBeNull();
  const all = [...first.ids, ...second.ids, ...third.ids];
  expect(all).toEqual(newestFirst());
  expect(new Set(all).size).toBe(7);
  // A fresh first page shows it; deleting it keeps the later tests' expectations exact.
  expect((await list({ limit: '3' })).ids[0]).toBe(arrived);
  await stack.db.capsule.delete({ where: { id: arrived } });
});

test('a summary carries the filterable columns, the short metadata and links', async () => {
  const { page } = await list({ intentId: intents.i1! });
  expect(page.items.map((item) => item.id)).toEqual(named('c2', 'c1'));
  expect(page.items[0]).toEqual({
    id: ids.c2,
    intentId: intents.i1,
    version: 2,
    format: 'quantumcapsule/v2',
    createdAt: minutes(1).toISOString(),
    sha256: '0'.repeat(64),
    sizeBytes: 1002,
    fileCount: 3,
    verdict: 'passed',
    frameworks: { HIPAA: 'pass', SOC2: 'pass' },
    keyId: activeKey.keyId,
    metadata: { name: 'billing', version: '1.0.0', securityRisk: 'low', qualityScore: 87, tags: ['billing'] },
    links: {
      self: `/api/v1/capsules/${ids.c2}`,
      download: `/api/v1/capsules/${ids.c2}/download`,
      intent: `/api/v1/intents/${intents.i1}`,
    },
  });
  // A v1 capsule: no verdict, frameworks, key or metadata.
  expect(page.items[1]).toMatchObject({ format: 'quantumcapsule/v1', verdict: null, frameworks: {}, keyId: null });
  expect(page.items[1]!.metadata).toBeNull();
});

test.each([
  ['intentId', () => ({ intentId: intents.i2! }), ['c4', 'c3']],
  ['verdict=passed', () => ({ verdict: 'passed' }), ['c7', 'c6', 'c5', 'c2']],
  ['verdict=failed', () => ({ verdict: 'failed' }), ['c3']],
  ['verdict=not_assessed', () => ({ verdict: 'not_assessed' }), ['c4']],
  ['createdAfter (exclusive)', () => ({ createdAfter: minutes(3).toISOString() }), ['c7', 'c6', 'c5']],
  ['createdBefore (exclusive)', () => ({ createdBefore: minutes(2).toISOString() }), ['c2', 'c1']],
  [
    'createdAfter and createdBefore, with an offset',
    () => ({ createdAfter: '2025-01-01T01:00:30+01:00', createdBefore: minutes(4).toISOString() }),
    ['c4', 'c3', 'c2'],
  ],
  ['framework (assessed: pass or fail)', () => ({ framework: 'HIPAA' }), ['c3', 'c2']],
  ['framework with status pass', () => ({ framework: 'HIPAA', frameworkStatus: 'pass' }), ['c2']],
  ['framework with status not_assessed', () => ({ framework: 'GDPR', frameworkStatus: 'not_assessed' }), ['c7']],
  ['framework SOC2 assessed', () => ({ framework: 'SOC2' }), ['c5', 'c2']],
  ['format v1', () => ({ format: 'quantumcapsule/v1' }), ['c1']],
  ['filters combine', () => ({ format: 'quantumcapsule/v2', verdict: 'passed', framework: 'SOC2' }), ['c5', 'c2']],
])('filter %s', async (_name, query, expected) => {
  // The tenant holds only this file's rows, so the match is exact (in list order: c7 and c6 tie on time).
  const matching = (expected as string[]).map((name) => ids[name]!);
  expect((await list(query())).ids).toEqual(newestFirst().filter((id) => matching.includes(id)));
});

test("another tenant's capsule is neither listed nor readable, and theirs sees only their own", async () => {
  const everything = await list({ limit: '100' });
  expect(everything.ids).not.toContain(otherCapsule);
  expect(everything.ids).toHaveLength(7);
  const read = await call(`${stack.apiUrl}/capsules/${otherCapsule}`, { token: keys.submitter });
  expect(read.status).toBe(404);
  expect(read.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(read.body).toMatchObject({ status: 404, title: 'Not found' });
  // Exactly like an id nobody has.
  const unknown = await call(`${stack.apiUrl}/capsules/${randomUUID()}`, { token: keys.submitter });
  expect({ status: unknown.status, title: unknown.body.title }).toEqual({ status: 404, title: 'Not found' });
  expect((await list({}, otherKeys.auditor)).ids).toEqual([otherCapsule]);
  expect((await list({ intentId: intents.i1! }, otherKeys.auditor)).ids).toEqual([]);
});

test.each([
  [{ limit: '0' }, 'query.limit'],
  [{ limit: '101' }, 'query.limit'],
  [{ limit: 'many' }, 'query.limit'],
  [{ cursor: 'not a cursor' }, 'query.cursor'],
  [{ cursor: Buffer.from('["2025-01-01T00:00:00.000Z","nope"]').toString('base64url') }, 'query.cursor'],
  [{ intentId: 'nope' }, 'query.intentId'],
  [{ verdict: 'maybe' }, 'query.verdict'],
  [{ createdAfter: 'yesterday' }, 'query.createdAfter'],
  [{ createdBefore: '2025-02-30T00:00:00Z' }, 'query.createdBefore'],
  [{ framework: 'HIPAA; DROP' }, 'query.framework'],
  [{ frameworkStatus: 'pass' }, 'query.frameworkStatus'],
  [{ framework: 'HIPAA', frameworkStatus: 'great' }, 'query.frameworkStatus'],
  [{ format: 'quantumcapsule/v9' }, 'query.format'],
  [{ colour: 'red' }, 'query'],
])('a bad query %j is a 400 naming %s', async (query, field) => {
  const response = await call(`${stack.apiUrl}/capsules?${new URLSearchParams(query).toString()}`, {
    token: keys.submitter,
  });
  expect(response.status).toBe(400);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
});

test('one capsule: full metadata, the versions of its intent, its signer, and a missing archive reported failed', async () => {
  const response = await call(`${stack.apiUrl}/capsules/${ids.c2}`, { token: keys.auditor });
  expect(response.status).toBe(200);
  const detail = CapsuleDetailView.parse(response.body);
  expect(detail.metadata).toEqual(metadata('billing'));
  expect(detail.versions).toEqual([
    { id: ids.c1, version: 1, createdAt: minutes(0).toISOString(), sha256: '0'.repeat(64) },
    { id: ids.c2, version: 2, createdAt: minutes(1).toISOString(), sha256: '0'.repeat(64) },
  ]);
  expect(detail.signatures).toEqual([{ keyId: activeKey.keyId, known: true, retired: false, retiredAt: null }]);
  expect(detail.verification).toMatchObject({ status: 'failed', capsuleId: ids.c2, signedBy: [] });
  expect((detail.verification as VerificationResult).errors[0]).toContain('is not in bucket');

  const retired = CapsuleDetailView.parse((await call(`${stack.apiUrl}/capsules/${ids.c3}`)).body);
  expect(retired.signatures).toEqual([
    { keyId: retiredKey.keyId, known: true, retired: true, retiredAt: '2001-06-01T00:00:00.000Z' },
  ]);
});

/** POST /capsules/verify with a raw body. */
async function upload(body: Buffer, contentType: string | undefined, token: string | null = keys.submitter) {
  const response = await fetch(`${stack.apiUrl}/capsules/verify`, {
    method: 'POST',
    headers: {
      ...(contentType && { 'content-type': contentType }),
      ...(token && { authorization: `Bearer ${token}` }),
    },
    body,
  });
  return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as any };
}

test('verifying an upload: a non-gzip body is a failed report (200) naming the archive check', async () => {
  const response = await upload(Buffer.from('this is not a gzipped tar archive'), 'application/gzip');
  expect(response.status).toBe(200);
  const result = VerificationResult.parse(response.body);
  expect(result.status).toBe('failed');
  expect(result.checks.find((check) => !check.ok)?.check).toMatch(/archive/);
  expect(result.errors.length).toBeGreaterThan(0);
});

test('verifying an upload: too large is 413, wrong type 415, empty 400, no credentials 401 (all problems)', async () => {
  const tooLarge = await upload(Buffer.alloc(64 * 1024 * 1024 + 1), 'application/octet-stream');
  expect(tooLarge.status).toBe(413);
  expect(tooLarge.type).toMatch(/^application\/problem\+json/);
  expect(tooLarge.body.errors).toEqual([{ field: 'body', reason: expect.stringContaining('at most') }]);

  const json = await upload(Buffer.from('{}'), 'application/json');
  expect({ status: json.status, type: json.type }).toEqual({
    status: 415,
    type: expect.stringMatching(/problem\+json/),
  });
  expect((await upload(Buffer.from('x'), undefined)).status).toBe(415);

  const empty = await upload(Buffer.alloc(0), 'application/gzip');
  expect(empty.status).toBe(400);
  expect(empty.body.errors).toEqual([{ field: 'body', reason: expect.any(String) }]);

  expect((await upload(Buffer.from('x'), 'application/gzip', null)).status).toBe(401);
});

test('signing keys: every key, retired ones included, oldest first', async () => {
  const response = await call(`${stack.apiUrl}/signing-keys`, { token: keys.approver });
  expect(response.status).toBe(200);
  const { keys: listed } = SigningKeyList.parse(response.body);
  const mine = listed.filter((key) => [activeKey.keyId, retiredKey.keyId].includes(key.keyId));
  expect(mine).toEqual([
    {
      keyId: retiredKey.keyId,
      algorithm: 'ed25519',
      publicKeyPem: retiredKey.pem,
      createdAt: '2001-01-01T00:00:00.000Z',
      retiredAt: '2001-06-01T00:00:00.000Z',
    },
    {
      keyId: activeKey.keyId,
      algorithm: 'ed25519',
      publicKeyPem: activeKey.pem,
      createdAt: '2001-06-01T00:00:00.000Z',
      retiredAt: null,
    },
  ]);
  const times = listed.map((key) => key.createdAt);
  expect(times).toEqual([...times].sort());
  expect((await call(`${stack.apiUrl}/signing-keys`, { token: null })).status).toBe(401);
});

test('a real capsule, run end to end, verifies on read and as an upload; a changed byte does not', async () => {
  const e2eKeys = await createStackKeys(stack.db, 'capsule-api-e2e', E2E);
  const worker = await startWorker(stack);
  try {
    const submitted = await call(`${stack.apiUrl}/intents`, {
      body: { text: 'Build an inventory tracker for warehouse pallets' },
      token: e2eKeys.submitter,
    });
    expect(submitted.status).toBe(202);
    const id: string = submitted.body.id;
    const status = (wanted: string) =>
      eventually(async () => {
        const { body } = await call(`${stack.apiUrl}/intents/${id}`, { token: e2eKeys.submitter });
        return body.status === wanted ? body : undefined;
      }, `intent ${id} to reach ${wanted}`);
    await status('AWAITING_APPROVAL');
    expect((await decide(stack.apiUrl, id, { decision: 'approve', reason: 'ok' }, e2eKeys.approver)).status).toBe(200);
    const done = await status('COMPLETED');

    const read = await call(`${stack.apiUrl}/capsules/${done.capsule.id}`, { token: e2eKeys.auditor });
    expect(read.status).toBe(200);
    const detail = CapsuleDetailView.parse(read.body);
    expect(detail.verification).toMatchObject({ status: 'verified', capsuleId: done.capsule.id, intentId: id });
    expect(detail.format).toBe('quantumcapsule/v2');
    expect(detail.signatures).toEqual([{ keyId: detail.keyId, known: true, retired: false, retiredAt: null }]);

    const download = await fetch(`${stack.apiUrl}/capsules/${done.capsule.id}/download`, {
      headers: { authorization: `Bearer ${e2eKeys.auditor}` },
    });
    const archive = Buffer.from(await download.arrayBuffer());
    const uploaded = await upload(archive, 'application/gzip', e2eKeys.auditor);
    expect(uploaded.status).toBe(200);
    expect(uploaded.body).toMatchObject({ status: 'verified', capsuleId: done.capsule.id, signedBy: [detail.keyId] });

    const tampered = Buffer.from(archive);
    tampered[Math.floor(tampered.length / 2)]! ^= 0xff;
    const refused = await upload(tampered, 'application/gzip', e2eKeys.auditor);
    expect(refused.status).toBe(200);
    expect(refused.body.status).toBe('failed');
  } finally {
    await worker.stop();
  }
});
