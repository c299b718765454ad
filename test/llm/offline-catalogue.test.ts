import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { extract } from 'tar';
import { offlineLlmConfig } from '../../adapters/llm/config';
import { CATALOGUE, recognise } from '../../agents/offline/catalogue';
import { generateOfflineFiles, offlineSpecOf } from '../../agents/offline/offline-agent';
import { planOffline } from '../../agents/offline/offline-planner';
import type { CapsuleManifest } from '../../capsule/manifest';
import { call, decide } from '../support/api';
import { eventually, openStack, type RunningWorker, type TestStack } from '../support/stack';
import { buildAndTest } from './generated-project';
import { startLlmWorker } from './llm-stack';

// The offline catalogue: what no-LLM installations can build, deterministic, labelled, and whose projects pass their own tests.

function offlineProject(text: string) {
  const planned = planOffline(text);
  if (!planned.ok) throw new Error(planned.reason);
  return {
    plan: planned.plan,
    files: planned.plan.tasks.flatMap((task) => generateOfflineFiles(offlineSpecOf(task)!, task, text)),
  };
}

describe('recognising catalogue intents and their parameters', () => {
  test.each([
    [
      'A REST API for books with title, author, year and available',
      'rest-crud-service',
      { entity: ['book'], fields: ['title:string', 'author:string', 'year:number', 'available:boolean'] },
    ],
    [
      'Create a REST API for products with fields: name, price:number that can list and add products',
      'rest-crud-service',
      { entity: ['product'], operations: ['create', 'list'] },
    ],
    [
      'A read-only HTTP API for stations with name and capacity on port 8081',
      'rest-crud-service',
      { operations: ['read', 'list'], port: 8081 },
    ],
    ['A command-line tool to manage contacts with name, email and phone', 'cli-tool', { entity: ['contact'] }],
    [
      'Build a TypeScript module that tracks library book loans with borrower, due date and returned',
      'library-module',
      { entity: ['book', 'loan'], fields: ['borrower:string', 'dueDate:date', 'returned:boolean'] },
    ],
    [
      'A background worker that processes invoice jobs with customer and amount, concurrency 3, 4 attempts',
      'background-worker',
      { entity: ['invoice'], concurrency: 3, attempts: 4 },
    ],
    [
      'Kubernetes manifests for the shop app with image ghcr.io/acme/shop:1.2.3, 3 replicas, port 8080, namespace retail',
      'kubernetes-manifests',
      { app: 'shop', image: 'ghcr.io/acme/shop:1.2.3', replicas: 3, namespace: 'retail' },
    ],
  ])('%s → %s', (text, kind, expected) => {
    const result = recognise(text);
    if (!result.ok) throw new Error(result.reason);
    const { spec } = result;
    expect(spec.kind).toBe(kind);
    const seen = {
      entity: spec.entity.words,
      fields: spec.entity.fields.map((f) => `${f.name}:${f.type}`),
      operations: spec.operations,
      port: spec.port,
      concurrency: spec.worker.concurrency,
      attempts: spec.worker.maxAttempts,
      app: spec.kubernetes.app,
      image: spec.kubernetes.image,
      replicas: spec.kubernetes.replicas,
      namespace: spec.kubernetes.namespace,
    };
    expect(seen).toMatchObject(expected);
  });

  test('defaults are stated as assumptions, not passed off as the intent', () => {
    const result = recognise('Build a ledger service');
    expect(result.ok && result.spec.assumptions).toEqual([
      'no fields were named: the entity has a single `name` field (say "with title, author and year" to choose)',
      'no operations were named: create, read, list, update and delete are all provided',
      'no port was named: the service listens on PORT or 3000',
    ]);
  });

  test.each([
    'Summarise nightly sales reports',
    'Write a poem about the sea',
    'Create a URL shortener',
    'Build a REST API',
  ])('%j is refused with how to configure an LLM', (text) => {
    const result = recognise(text);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(
      /An LLM provider is required for this intent: set LLM_PROVIDERS=openai/,
    );
  });

  test('the same intent always yields the same files; every source file says it was generated offline', () => {
    const text = CATALOGUE[0]!.example;
    const first = offlineProject(text).files;
    expect(offlineProject(text).files).toEqual(first);
    for (const file of first.filter((f) => f.path.endsWith('.ts')))
      expect(file.content).toMatch(/Generated offline by the QuantumLayer catalogue \(deterministic, no LLM\)/);
  });
});

describe('generated projects type-check and pass their own tests', () => {
  test.each([
    ...CATALOGUE.map((entry) => entry.example),
    'Build a read-only REST API for products with fields: name, price:number, in stock (boolean)',
    'A CLI to add and list tasks with title and done',
    'Kubernetes manifests for api with 1 replica',
    // Requested capabilities the catalogue builds (authentication, audit logging, encryption at rest, HMAC).
    'Build a HIPAA-compliant patient records API with authentication, audit logging and encryption of sensitive fields such as diagnosis and SSN.',
    'A read-only REST API for stations with name, with authentication',
    'A REST API for notes with title, with audit logging',
    'A webhook receiver that verifies HMAC signatures and forwards events to a queue, with retry.',
  ])('%s', async (text) => {
    const { files } = offlineProject(text);
    const result = await buildAndTest(files);
    expect(result.diagnostics).toEqual([]);
    expect(result.tests.failed).toBe(0);
    expect(result.tests.passed).toBeGreaterThanOrEqual(3);
  });
});

describe('offline, end to end: intent → workflow → capsule → its tests pass', () => {
  let stack: TestStack;
  let worker: RunningWorker;

  beforeAll(async () => {
    stack = await openStack('offline-catalogue');
    worker = await startLlmWorker(stack, offlineLlmConfig());
  });
  afterAll(async () => {
    await worker?.stop();
    await stack?.close();
  });

  const submit = async (text: string) =>
    (await call(`${stack.apiUrl}/intents`, { body: { text } })).body as { id: string };
  const until = (id: string, statuses: string[]) =>
    eventually(
      async () => {
        const { body } = await call(`${stack.apiUrl}/intents/${id}`);
        return statuses.includes(body.status) ? body : undefined;
      },
      `intent ${id} to reach ${statuses.join('/')}`,
    );

  async function capsuleFiles(download: string) {
    const response = await fetch(`${stack.apiUrl}${download.replace('/api/v1', '')}`, {
      headers: { authorization: `Bearer ${stack.keys.submitter}` },
    });
    const dir = await mkdtemp(join(tmpdir(), 'qlp-offline-capsule-'));
    try {
      await writeFile(join(dir, 'capsule.tar.gz'), Buffer.from(await response.arrayBuffer()));
      await extract({ file: join(dir, 'capsule.tar.gz'), cwd: dir });
      const manifest = JSON.parse(await readFile(join(dir, 'capsule.json'), 'utf8')) as CapsuleManifest;
      const root = join(dir, 'files');
      const paths = (await readdir(root, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name));
      const files = await Promise.all(
        paths.map(async (path) => ({ path: relative(root, path), content: await readFile(path) })),
      );
      return { manifest, files };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  test('every catalogue kind becomes a capsule whose project compiles and passes its tests', async () => {
    const submitted = await Promise.all(CATALOGUE.map(async (entry) => ({ entry, ...(await submit(entry.example)) })));
    for (const { entry, id } of submitted) {
      const waiting = await until(id, ['AWAITING_APPROVAL', 'FAILED']);
      expect(waiting.statusReason).toBeNull();
      // Our own catalogue's projects must pass our own validation layers.
      expect({ kind: entry.kind, ...waiting.validation.score }).toMatchObject({
        kind: entry.kind,
        verdict: 'passed',
        reasons: [],
      });
      // Layer 2 ran the project's own tests in the sandbox.
      expect(waiting.validation.dynamic).toMatchObject({ status: 'assessed', outcome: 'passed', tests: { failed: 0 } });
      expect(waiting.validation.dynamic.tests.passed).toBeGreaterThanOrEqual(4);
      await decide(stack.apiUrl, id, { decision: 'approve' }, stack.keys.approver);
      const done = await until(id, ['COMPLETED']);
      const { manifest, files } = await capsuleFiles(done.capsule.download);
      expect(manifest.project.planner).toBe(`offline-catalogue-v1 (deterministic, no LLM): ${entry.kind}`);
      const result = await buildAndTest(files);
      expect({ kind: entry.kind, diagnostics: result.diagnostics, failed: result.tests.failed }).toEqual({
        kind: entry.kind,
        diagnostics: [],
        failed: 0,
      });
      expect(result.tests.passed).toBeGreaterThanOrEqual(4);
    }
  }, 600_000); // five intents through every layer and five sandbox builds: minutes on a loaded 2-core machine

  test('an intent outside the catalogue fails fast, and the API says an LLM provider is needed', async () => {
    const { id } = await submit('Summarise nightly sales reports');
    const failed = await until(id, ['FAILED']);
    expect(failed.statusReason).toMatch(/outside the offline catalogue .*An LLM provider is required/);
    expect(failed.tasks).toEqual([]);
  });
});
