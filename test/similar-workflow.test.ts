import { randomUUID } from 'node:crypto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createEmbeddingActivities } from '../activities/embeddings';
import { offlineLlmConfig } from '../adapters/llm';
import type { EmbeddingConfig } from '../adapters/llm/embedding-config';
import { localEmbeddingConfig } from '../adapters/llm/embedding-config';
import { storeTaskFiles } from '../adapters/storage/artifacts';
import type { IntentWorkflowInput } from '../contracts/workflow';
import type { similarStepsWorkflow } from './fixtures/workflows/similar-steps';
import { llmConfig, providerFor } from './llm/llm-stack';
import { ScriptedLlm } from './support/scripted-llm';
import { openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';

// The workflow steps the intent workflow calls at submission (workflows/similar.ts), on a real worker and
// Temporal: similar intents attached to the state, `reuse: true` starting from the earlier capsule's files,
// and a provider that refuses the embedding leaving the intent to go on without similar intents.

const RUN = randomUUID().slice(0, 8);
const TENANT = `similar-wf-${RUN}`;
const TEXT = 'A command line tool that converts CSV files to JSON';

let stack: TestStack;
let llm: ScriptedLlm;
const source = randomUUID();

const input = (intentId: string, reuse: boolean): IntentWorkflowInput =>
  ({ intentId, text: TEXT, tenant: TENANT, reuse, policy: {} }) as unknown as IntentWorkflowInput;

async function run(worker: () => Promise<RunningWorker>, workflowInput: IntentWorkflowInput) {
  const running = await worker();
  try {
    return await stack.temporal.workflow.execute<typeof similarStepsWorkflow>('similarStepsWorkflow', {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId: `similar-steps-${workflowInput.intentId}`,
      args: [workflowInput],
    });
  } finally {
    await running.stop();
  }
}

let bundle: Awaited<ReturnType<typeof bundleWorkflowCode>>;
const worker =
  (embeddings: EmbeddingConfig, llmConfigured = offlineLlmConfig()) =>
  () =>
    startWorker(stack, { workflowBundle: bundle, embeddings, llm: llmConfigured });

beforeAll(async () => {
  stack = await openStack('similar-workflow');
  llm = await ScriptedLlm.start();
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./fixtures/workflows/similar-steps'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  });
  // A completed, packaged intent with the same text, embedded offline as its own submission did.
  await stack.db.intent.create({
    data: { id: source, tenant: TENANT, text: TEXT, workflowId: `intent-${source}`, status: 'COMPLETED' },
  });
  const artifact = await storeTaskFiles(stack.store, source, 'cli', [{ path: 'src/cli.ts', content: 'export {};\n' }]);
  await stack.db.task.create({
    data: {
      intentId: source,
      taskId: 'cli',
      type: 'codegen',
      description: 'the CLI',
      status: 'COMPLETED',
      artifactKey: artifact.manifestKey,
      fileCount: 1,
    },
  });
  await stack.db.capsule.create({
    data: {
      id: randomUUID(),
      intentId: source,
      version: 1,
      bucket: 'b',
      objectKey: 'k',
      sha256: 's',
      sizeBytes: 1n,
      fileCount: 1,
    },
  });
  await createEmbeddingActivities({
    db: stack.db,
    store: stack.store,
    llm: offlineLlmConfig(),
    embeddings: localEmbeddingConfig(),
  }).findSimilarIntents({ intentId: source, tenant: TENANT, text: TEXT });
});

afterAll(async () => {
  await llm?.close();
  await stack?.close();
});

async function newIntent(): Promise<string> {
  const id = randomUUID();
  await stack.db.intent.create({ data: { id, tenant: TENANT, text: TEXT, workflowId: `intent-${id}` } });
  return id;
}

test('similar intents are attached to the state, and reuse starts from the earlier capsule’s files', async () => {
  const id = await newIntent();
  const result = await run(worker(localEmbeddingConfig()), input(id, true));
  expect(result.similar?.matches.map((m) => m.intentId)).toEqual([source]);
  expect(result.stateSimilar).toEqual(result.similar);
  expect(result.similar?.reusable?.intentId).toBe(source);
  expect(result.artifacts).toMatchObject([{ taskId: 'cli', manifestKey: `intents/${id}/tasks/cli/manifest.json` }]);
});

test('without reuse: true the files are not copied', async () => {
  const id = await newIntent();
  const result = await run(worker(localEmbeddingConfig()), input(id, false));
  expect(result.similar?.reusable?.intentId).toBe(source);
  expect(result.artifacts).toBeUndefined();
});

test('an embedding the provider refuses leaves the intent to go on without similar intents', async () => {
  const id = await newIntent();
  const model = `scripted-refused-${RUN}`;
  llm.enqueue({ status: 401, error: { message: 'Incorrect API key provided' } });
  const embeddings: EmbeddingConfig = {
    provider: { ...providerFor(llm), model },
    model,
    offline: false,
    similarity: { threshold: 0.8, reuseThreshold: 0.97, limit: 5 },
  };
  const result = await run(worker(embeddings, llmConfig([providerFor(llm)])), input(id, true));
  expect(result).toEqual({});
  expect(llm.requests.filter((r) => r.path.endsWith('/embeddings'))).toHaveLength(1);
});
