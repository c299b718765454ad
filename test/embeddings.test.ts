import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Context } from '@temporalio/activity';
import { createEmbeddingActivities } from '../activities/embeddings';
import { embeddingModels } from '../adapters/db/embeddings';
import { prepareDatabase } from '../adapters/db/migrate';
import type { EmbeddingConfig } from '../adapters/llm/embedding-config';
import { localEmbeddingConfig } from '../adapters/llm/embedding-config';
import { localEmbedding, LOCAL_EMBEDDING_DIMENSION, LOCAL_EMBEDDING_MODEL } from '../adapters/llm/local-embedding';
import { reembedWorkflowId, type ReembedProgress } from '../contracts/reembed';
import { loadConfig } from '../config';
import { startReembedIfNeeded } from '../workers/reembed-start';
import { reembedProgressQuery } from '../workflows/reembed';
import { llmConfig, providerFor } from './llm/llm-stack';
import { ScriptedLlm } from './support/scripted-llm';
import { eventually, openStack, PATIENCE_MS, startWorker, type TestStack } from './support/stack';

// Embeddings: the offline one (deterministic, unit length, labelled), a provider's through the scripted
// OpenAI-compatible server (ledger, cache), and a model change re-embedding every intent in the background,
// resumably: the worker is stopped in the middle of a page and another one finishes from the cursor.

const RUN = randomUUID().slice(0, 8);
const TENANT = `embed-${RUN}`;

let stack: TestStack;
let llm: ScriptedLlm;
/** A database of this file's own: a re-embed covers every intent, and other files' intents would come and go. */
const database = new URL(process.env.DATABASE_URL!);
database.pathname = `${database.pathname}_embed_${RUN}`;

async function onServer(sql: string): Promise<void> {
  const admin = new URL(database);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

/** A unit-length vector per text: the scripted provider's embedding model (words hashed into 16 numbers). */
const scriptedVector = (text: string) => {
  const v = localEmbedding(text, 16);
  return v.every((x) => x === 0) ? [1, ...Array<number>(15).fill(0)] : v;
};

function providerEmbeddings(model: string): EmbeddingConfig {
  return {
    provider: { ...providerFor(llm), model },
    model,
    offline: false,
    similarity: { threshold: 0.8, reuseThreshold: 0.97, limit: 5 },
  };
}

beforeAll(async () => {
  await prepareDatabase(database.toString());
  stack = await openStack('embeddings', (config) => ({ ...config, databaseUrl: database.toString() }));
  llm = await ScriptedLlm.start();
  llm.embed = scriptedVector;
});

afterAll(async () => {
  await llm?.close();
  await stack?.close();
  await onServer(`DROP DATABASE IF EXISTS "${database.pathname.slice(1)}" WITH (FORCE)`);
});

test('the offline embedding is deterministic, unit length, and ranks reworded text above unrelated text', () => {
  const a = localEmbedding('Build a REST API for books with title and author');
  expect(a).toHaveLength(LOCAL_EMBEDDING_DIMENSION);
  expect(localEmbedding('Build a REST API for books with title and author')).toEqual(a);
  expect(Math.hypot(...a)).toBeCloseTo(1, 10);
  expect(cosine(a, localEmbedding('A REST API for books with titles and authors'))).toBeGreaterThan(0.95);
  expect(cosine(a, localEmbedding('Compile a weekly newsletter about gardening'))).toBeLessThan(0.2);
  expect(localEmbedding('   ').every((x) => x === 0)).toBe(true);
});

test('a provider embeds through its /embeddings endpoint, charged in the ledger and cached per text', async () => {
  const model = `scripted-embed-${RUN}`;
  const id = randomUUID();
  await stack.db.intent.create({ data: { id, tenant: TENANT, text: 'A to-do list API', workflowId: `intent-${id}` } });
  const activities = createEmbeddingActivities({
    db: stack.db,
    store: stack.store,
    llm: llmConfig([providerFor(llm)]),
    embeddings: providerEmbeddings(model),
  });
  const before = llm.requests.length;
  const found = await activities.findSimilarIntents({ intentId: id, tenant: TENANT, text: 'A to-do list API' });
  expect(found.embedding).toEqual({ model, dimension: 16, offline: false, kind: 'provider' });
  const sent = llm.requests.slice(before);
  expect(sent.map((r) => [r.path, r.body.model, r.body.input])).toEqual([
    ['/v1/embeddings', model, ['A to-do list API']],
  ]);
  const calls = await stack.db.llmCall.findMany({ where: { intentId: id }, orderBy: { createdAt: 'asc' } });
  expect(calls.map((c) => [c.purpose, c.state, c.model])).toEqual([['embed:similar', 'settled', model]]);
  expect(calls[0]!.promptTokens).toBeGreaterThan(0);
  // Asked again (an activity retry): the vector comes from the response cache, nothing is sent.
  await activities.findSimilarIntents({ intentId: id, tenant: TENANT, text: 'A to-do list API' });
  expect(llm.requests.length).toBe(before + 1);
  expect(await stack.db.llmCall.count({ where: { intentId: id, state: 'cached' } })).toBe(1);
});

test('a provider failure is classified for Temporal: 401 is final and names the key variable', async () => {
  const id = randomUUID();
  await stack.db.intent.create({ data: { id, tenant: TENANT, text: 'x', workflowId: `intent-${id}` } });
  const activities = createEmbeddingActivities({
    db: stack.db,
    store: stack.store,
    llm: llmConfig([providerFor(llm)]),
    embeddings: providerEmbeddings(`scripted-embed-fail-${RUN}`),
  });
  llm.enqueue({ status: 401, error: { message: 'Incorrect API key provided' } });
  await expect(activities.findSimilarIntents({ intentId: id, tenant: TENANT, text: 'x' })).rejects.toMatchObject({
    type: 'LlmAuthFailed',
    nonRetryable: true,
  });
  expect(await stack.db.llmCall.findMany({ where: { intentId: id } })).toMatchObject([{ state: 'failed' }]);
});

test(
  'a model change re-embeds every intent in the background, resuming from the cursor after a worker stops',
  async () => {
    // Nine intents embedded offline, as a deployment without a provider leaves them.
    const offline = createEmbeddingActivities({
      db: stack.db,
      store: stack.store,
      llm: llmConfig([]),
      embeddings: localEmbeddingConfig(),
    });
    const texts = Array.from({ length: 9 }, (_, i) => `Re-embed intent number ${i} ${RUN}`);
    for (const text of texts) {
      const id = randomUUID();
      await stack.db.intent.create({ data: { id, tenant: TENANT, text, workflowId: `intent-${id}` } });
      await offline.findSimilarIntents({ intentId: id, tenant: TENANT, text });
    }
    expect(
      (await embeddingModels(stack.db)).find((m) => m.model === LOCAL_EMBEDDING_MODEL)?.count,
    ).toBeGreaterThanOrEqual(9);

    // The configuration now names a provider's model: the worker start finds vectors of another model.
    const model = `scripted-embed-new-${RUN}`;
    const embeddings = providerEmbeddings(model);
    const provider = llmConfig([providerFor(llm)]);
    let pages = 0;
    let blocked: () => void = () => undefined;
    const pageBlocked = new Promise<void>((resolve) => (blocked = resolve));
    // The first worker takes two pages, then hangs in its third (before asking the provider) until it is stopped.
    const first = await startWorker(stack, {
      llm: provider,
      embeddings,
      shutdownGraceTime: '1s',
      wrapActivities: (activities) => ({
        ...activities,
        reembedPage: async (input) => {
          if (++pages === 3) {
            blocked();
            await Context.current().cancelled;
          }
          return activities.reembedPage(input);
        },
      }),
    });
    const start = await startReembedIfNeeded(stack.temporal, stack.db, {
      taskQueue: stack.config.temporal.taskQueue,
      model,
      pageSize: 2,
      pagesPerRun: 2,
    });
    expect(start).toMatchObject({ started: true, workflowId: reembedWorkflowId(model) });
    expect(start.missing).toBeGreaterThanOrEqual(9);
    await pageBlocked;
    const handle = stack.temporal.workflow.getHandle(reembedWorkflowId(model));
    // Mid-way: the second run (continued as new after two pages) knows its cursor and totals.
    const mid = await eventually(async () => {
      const progress = await handle.query(reembedProgressQuery);
      return progress.runs === 2 ? progress : undefined;
    }, 'the re-embed to reach its second run');
    expect(mid).toMatchObject({ model, embedded: 4, pages: 2, done: false });
    expect(mid.cursor).toMatch(/^[0-9a-f-]{36}$/);
    await first.stop();

    const second = await startWorker(stack, { llm: provider, embeddings });
    try {
      const done = (await handle.result()) as ReembedProgress;
      expect(done.done).toBe(true);
      expect(done.remaining).toBe(0);
      expect(done.runs).toBeGreaterThanOrEqual(3);
      // Every one of our texts went to the provider exactly once: no page was embedded twice.
      const sent = llm.requests
        .filter((r) => r.path.endsWith('/embeddings') && r.body.model === model)
        .flatMap((r) => r.body.input as string[]);
      for (const text of texts) expect(sent.filter((t) => t === text)).toHaveLength(1);
      expect(done.embedded).toBe(sent.length);
      const ours = await stack.db.$queryRaw<{ count: bigint }[]>`
        SELECT COUNT(*) AS count FROM intent_embeddings WHERE tenant = ${TENANT} AND model = ${model} AND dimension = 16`;
      expect(Number(ours[0]!.count)).toBeGreaterThanOrEqual(9);
      // Nothing left to do: a second start (the next worker start) does not start another re-embed.
      expect(
        await startReembedIfNeeded(stack.temporal, stack.db, { taskQueue: stack.config.temporal.taskQueue, model }),
      ).toMatchObject({ started: false, missing: 0 });
    } finally {
      await second.stop();
    }
  },
  PATIENCE_MS,
);

test('EMBEDDING_PROVIDER must be one of LLM_PROVIDERS; the default is the local embedding', () => {
  expect(loadConfig({}).embeddings).toMatchObject({ model: LOCAL_EMBEDDING_MODEL, offline: true, dimensions: 384 });
  expect(() => loadConfig({ EMBEDDING_PROVIDER: 'openai' })).toThrow(
    /EMBEDDING_PROVIDER: is openai, which LLM_PROVIDERS/,
  );
  const config = loadConfig({
    LLM_PROVIDERS: 'openai',
    OPENAI_API_KEY: 'sk-test',
    EMBEDDING_PROVIDER: 'openai',
    EMBEDDING_MODEL: 'text-embedding-3-large',
    EMBEDDING_DIMENSIONS: '1024',
    SIMILAR_INTENT_THRESHOLD: '0.85',
  }).embeddings;
  expect(config).toMatchObject({
    model: 'text-embedding-3-large@1024',
    dimensions: 1024,
    offline: false,
    provider: { name: 'openai', model: 'text-embedding-3-large' },
    similarity: { threshold: 0.85 },
  });
  expect(() => loadConfig({ SIMILAR_INTENT_THRESHOLD: '1.5' })).toThrow(/SIMILAR_INTENT_THRESHOLD/);
});
