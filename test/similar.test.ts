import { randomUUID } from 'node:crypto';
import { createDropActivities } from '../activities/build-drop';
import { createEmbeddingActivities } from '../activities/embeddings';
import { offlineLlmConfig } from '../adapters/llm';
import { localEmbeddingConfig } from '../adapters/llm/embedding-config';
import { LOCAL_EMBEDDING_MODEL } from '../adapters/llm/local-embedding';
import { loadFiles, storeTaskFiles } from '../adapters/storage/artifacts';
import type { QuantumDrop } from '../contracts/drop';
import type { Plan } from '../contracts/plan';
import type { SimilarIntentsView } from '../contracts/similar';
import { call } from './support/api';
import { runQlp } from './support/cli-run';
import { createStackKeys, openStack, type StackKeys, type TestStack } from './support/stack';

// Similar intents against the real PostgreSQL with pgvector: the offline embedding finds the tenant's earlier
// near-identical intent (never another tenant's, even with the very same text); the API, `qlp similar` and
// `reuse`'s copy of the approved files show and use it.

const RUN = randomUUID().slice(0, 8);
const TENANT = `similar-${RUN}`;
const OTHER = `similar-other-${RUN}`;
const BOOKS = 'Build a REST API for books with title and author';

let stack: TestStack;
let keys: StackKeys;
let otherKeys: StackKeys;
let activities: ReturnType<typeof createEmbeddingActivities>;
const ids = { approved: randomUUID(), unrelated: randomUUID(), foreign: randomUUID(), fresh: randomUUID() };
const capsuleId = randomUUID();

async function insertIntent(id: string, tenant: string, text: string, extra: Record<string, unknown> = {}) {
  await stack.db.intent.create({ data: { id, tenant, text, workflowId: `intent-${id}`, ...extra } });
}

beforeAll(async () => {
  stack = await openStack('similar');
  keys = await createStackKeys(stack.db, `similar-${RUN}`, TENANT);
  otherKeys = await createStackKeys(stack.db, `similar-other-${RUN}`, OTHER);
  activities = createEmbeddingActivities({
    db: stack.db,
    store: stack.store,
    llm: offlineLlmConfig(),
    embeddings: localEmbeddingConfig({ threshold: 0.8, reuseThreshold: 0.97, limit: 5 }),
  });
  // An approved, packaged intent whose files are in S3, as a finished workflow leaves them.
  await insertIntent(ids.approved, TENANT, BOOKS, {
    status: 'COMPLETED',
    gate: { state: 'decided', decision: { decision: 'approve', approver: 'alice', via: 'api' } },
    validation: {
      typecheck: { status: 'passed', filesChecked: 1, errorCount: 0, firstErrors: [] },
      reportKey: 'r',
      score: { verdict: 'passed', scores: { overall: 88, security: 90, quality: 85, compliance: 80 } },
    },
  });
  const artifact = await storeTaskFiles(stack.store, ids.approved, 'api', [
    { path: 'src/books.ts', content: 'export const books = [];\n' },
    { path: 'README.md', content: '# Books\n' },
  ]);
  await stack.db.task.create({
    data: {
      intentId: ids.approved,
      taskId: 'api',
      type: 'codegen',
      description: 'the API',
      status: 'COMPLETED',
      artifactKey: artifact.manifestKey,
      fileCount: artifact.fileCount,
    },
  });
  await stack.db.capsule.create({
    data: {
      id: capsuleId,
      intentId: ids.approved,
      version: 1,
      bucket: 'b',
      objectKey: 'k',
      sha256: 's',
      sizeBytes: 1n,
      fileCount: 2,
    },
  });
  await insertIntent(ids.unrelated, TENANT, 'Compile a weekly newsletter about gardening', { status: 'FAILED' });
  // Another tenant's intent with the very same text: the nearest vector of all, and never an answer.
  await insertIntent(ids.foreign, OTHER, BOOKS, { status: 'COMPLETED' });
  for (const [id, tenant, text] of [
    [ids.approved, TENANT, BOOKS],
    [ids.unrelated, TENANT, 'Compile a weekly newsletter about gardening'],
    [ids.foreign, OTHER, BOOKS],
  ] as const) {
    await activities.findSimilarIntents({ intentId: id, tenant, text });
  }
  await insertIntent(ids.fresh, TENANT, 'A REST API for books with titles and authors', { status: 'PLANNING' });
});

afterAll(async () => {
  await stack?.close();
});

test('a new intent finds its tenant’s earlier near-identical intent, never another tenant’s, offline-labelled', async () => {
  const found = await activities.findSimilarIntents({
    intentId: ids.fresh,
    tenant: TENANT,
    text: 'A REST API for books with titles and authors',
  });
  expect(found.embedding).toEqual({ model: LOCAL_EMBEDDING_MODEL, dimension: 384, offline: true, kind: 'local' });
  expect(found.matches.map((m) => m.intentId)).toEqual([ids.approved]);
  expect(found.matches[0]).toMatchObject({
    status: 'COMPLETED',
    capsuleId,
    approvers: ['alice'],
    overall: 88,
  });
  expect(found.matches[0]!.similarity).toBeGreaterThanOrEqual(0.97);
  expect(found.reusable?.intentId).toBe(ids.approved);
  // The same tenant's unrelated intent is stored but below the threshold; the foreign one is not even a candidate.
  const foreign = await activities.findSimilarIntents({ intentId: ids.foreign, tenant: OTHER, text: BOOKS });
  expect(foreign.matches).toEqual([]);
});

test('GET /intents/:id/similar lists them with status, scores, capsule and approver; tenant-scoped', async () => {
  const url = `${stack.apiUrl}/intents/${ids.fresh}/similar`;
  const mine = await call<SimilarIntentsView>(url, { token: keys.submitter });
  expect(mine.status).toBe(200);
  expect(mine.body.embedding).toMatchObject({ model: LOCAL_EMBEDDING_MODEL, offline: true, kind: 'local' });
  expect(mine.body.similar).toHaveLength(1);
  expect(mine.body.similar[0]).toMatchObject({
    intentId: ids.approved,
    status: 'COMPLETED',
    scores: { overall: 88 },
    verdict: 'passed',
    capsule: { id: capsuleId, version: 1 },
    approvers: ['alice'],
    links: { capsule: `/api/v1/capsules/${capsuleId}` },
  });
  // Another tenant's caller: the intent does not exist for them.
  expect((await call(url, { token: otherKeys.submitter })).status).toBe(404);
  // A foreign intent id with our key: 404, though it has the same text and a vector.
  expect((await call(`${stack.apiUrl}/intents/${ids.foreign}/similar`, { token: keys.submitter })).status).toBe(404);
  expect((await call(`${stack.apiUrl}/intents/not-a-uuid/similar`, { token: keys.submitter })).status).toBe(400);
});

test('qlp similar prints the table, saying the embedding is the offline one', async () => {
  const env = { QLP_API_URL: stack.apiUrl.replace(/\/api\/v1$/, ''), QLP_TOKEN: keys.submitter };
  const result = await runQlp(['similar', ids.fresh], env);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('local n-gram embedding (offline');
  expect(result.stdout).toContain(ids.approved);
  expect(result.stdout).toContain('alice');
  expect(result.stdout).toContain(`${capsuleId} v1`);
  const json = await runQlp(['--json', 'similar', ids.fresh], env);
  expect((JSON.parse(json.stdout) as SimilarIntentsView).similar[0]!.intentId).toBe(ids.approved);
});

test('reuse copies the approved intent’s files into the new intent’s layout; another tenant’s is refused', async () => {
  const refs = await activities.reuseArtifacts({ intentId: ids.fresh, sourceIntentId: ids.approved });
  expect(refs.map((r) => r.taskId)).toEqual(['api']);
  expect(refs[0]!.manifestKey).toBe(`intents/${ids.fresh}/tasks/api/manifest.json`);
  expect(refs[0]!.generator).toBe(`reused from intent ${ids.approved} (capsule ${capsuleId})`);
  const files = await loadFiles(stack.store, refs);
  expect(files.map((f) => [f.path, f.content.toString()])).toEqual([
    ['README.md', '# Books\n'],
    ['src/books.ts', 'export const books = [];\n'],
  ]);
  await expect(activities.reuseArtifacts({ intentId: ids.fresh, sourceIntentId: ids.foreign })).rejects.toMatchObject({
    type: 'ReuseRefused',
  });
  // Not completed: nothing approved to start from.
  await expect(activities.reuseArtifacts({ intentId: ids.fresh, sourceIntentId: ids.unrelated })).rejects.toMatchObject(
    { type: 'ReuseRefused' },
  );
});

test('the QuantumDrop at the gate lists the similar intents, in its JSON and on its page', async () => {
  const artifacts = await activities.reuseArtifacts({ intentId: ids.fresh, sourceIntentId: ids.approved });
  const drops = createDropActivities(stack.store, stack.db);
  const ref = await drops.buildDrop({
    intentId: ids.fresh,
    gate: 'release',
    version: 1,
    createdAt: '2026-11-30T12:00:00.000Z',
    plan: { planner: 'test', projectName: 'books', tasks: [] } as unknown as Plan,
    artifacts,
    validation: {
      typecheck: { status: 'passed', filesChecked: 1, errorCount: 0, firstErrors: [] },
      reportKey: 'none',
    },
  });
  const drop = await stack.store.getJson<QuantumDrop>(ref.key);
  expect(drop.similar).toEqual([
    {
      intentId: ids.approved,
      text: BOOKS,
      similarity: expect.any(Number) as number,
      status: 'COMPLETED',
      overall: 88,
      capsuleId,
      approvers: ['alice'],
    },
  ]);
  const html = (await stack.store.getBuffer(ref.key.replace(/\.json$/, '.html'))).toString();
  expect(html).toContain('Similar earlier intents');
  expect(html).toContain(capsuleId);
  expect(html).toContain('alice');
});
