import type { GeneratedFile } from '../../generated-file';
import { hasFeature, type OfflineSpec } from '../catalogue';
import { entityModule, entityNames, sampleObject } from './entity-code';
import { webhookModule, webhookTests } from './features';
import { header } from './header';

const webhooks = (spec: OfflineSpec) => hasFeature(spec, 'hmac-verification');

/** Source files: the job payload and its validation, a generic job worker, the job handler and the stdin entry point. */
export function backgroundWorkerCode(spec: OfflineSpec): GeneratedFile[] {
  const n = entityNames(spec.entity);
  const worker = `${header(spec.kind)}/** Thrown by a handler for a job that can never succeed (invalid payload): no retries. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

export interface WorkerOptions<T> {
  /** Jobs handled at the same time. */
  concurrency: number;
  /** Attempts per job, the first included, before it goes to the dead letters. */
  maxAttempts: number;
  /** Delay before the first retry; doubles with each further attempt. */
  backoffMs: number;
  handle(job: T, attempt: number): Promise<void>;
}

export interface Outcome<T> {
  job: T;
  attempts: number;
  error?: string;
}

/** An in-memory job queue with bounded concurrency, retries with exponential backoff, dead letters and a graceful stop. */
export class JobWorker<T> {
  readonly completed: Outcome<T>[] = [];
  readonly deadLetters: Outcome<T>[] = [];
  private readonly queue: { job: T; attempts: number }[] = [];
  private active = 0;
  private waitingRetries = 0;
  private stopping = false;
  private idle: (() => void)[] = [];

  constructor(private readonly options: WorkerOptions<T>) {
    if (options.concurrency < 1 || options.maxAttempts < 1) throw new RangeError('concurrency and maxAttempts must be at least 1');
  }

  /** Adds a job; refused once stop() was called. */
  enqueue(job: T): void {
    if (this.stopping) throw new Error('the worker is stopping: no new jobs');
    this.queue.push({ job, attempts: 0 });
    this.pump();
  }

  get inFlight(): number {
    return this.active;
  }

  /** Resolves when nothing is queued, running or waiting for a retry. */
  onIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Stops accepting jobs and resolves once every accepted job has finished (retries included). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.onIdle();
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.active === 0 && this.waitingRetries === 0;
  }

  private pump(): void {
    while (this.active < this.options.concurrency && this.queue.length > 0) {
      const entry = this.queue.shift()!;
      this.active++;
      void this.runOne(entry);
    }
    if (this.isIdle()) for (const resolve of this.idle.splice(0)) resolve();
  }

  private async runOne(entry: { job: T; attempts: number }): Promise<void> {
    entry.attempts++;
    try {
      await this.options.handle(entry.job, entry.attempts);
      this.completed.push({ job: entry.job, attempts: entry.attempts });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof PermanentJobError || entry.attempts >= this.options.maxAttempts) {
        this.deadLetters.push({ job: entry.job, attempts: entry.attempts, error: message });
      } else {
        this.waitingRetries++;
        setTimeout(() => {
          this.waitingRetries--;
          this.queue.push(entry);
          this.pump();
        }, this.options.backoffMs * 2 ** (entry.attempts - 1));
      }
    } finally {
      this.active--;
      this.pump();
    }
  }
}
`;
  const handler = `${header(spec.kind)}import { ${n.parseInput}, type ${n.input} } from './${n.module}';
import { PermanentJobError } from './worker';

/** What a valid ${n.label} job is passed to: put the job's real work here (or pass it in). */
export type ${n.type}Sink = (job: ${n.input}) => Promise<void> | void;

/** Validates each raw job and hands valid ones to the sink; an invalid payload fails permanently (no retries). */
export function create${n.type}Handler(sink: ${n.type}Sink): (raw: unknown) => Promise<void> {
  return async (raw) => {
    const job = ${n.parseInput}(raw);
    if (!job.ok) throw new PermanentJobError('invalid ${n.label} job: ' + job.errors.join('; '));
    await sink(job.value);
  };
}
`;
  const main = webhooks(spec) ? webhookMain(spec) : stdinMain(spec);
  return [
    entityModule(spec.kind, spec.entity),
    { path: 'src/worker.ts', content: worker, language: 'typescript' },
    { path: 'src/handler.ts', content: handler, language: 'typescript' },
    ...(webhooks(spec) ? [webhookModule(spec.kind)] : []),
    { path: 'src/main.ts', content: main, language: 'typescript' },
  ];
}

/** src/main.ts reading one JSON job per line from stdin. */
function stdinMain(spec: OfflineSpec): string {
  const n = entityNames(spec.entity);
  return `${header(spec.kind)}import { createInterface } from 'node:readline';
import { create${n.type}Handler } from './handler';
import { JobWorker } from './worker';

/** Reads one JSON job per line from stdin, processes them, and stops gracefully on SIGTERM/SIGINT or end of input. */
async function main(): Promise<void> {
  const handle = create${n.type}Handler((job) => {
    console.log(JSON.stringify({ processed: job }));
  });
  const worker = new JobWorker<unknown>({
    concurrency: Number(process.env.CONCURRENCY ?? ${spec.worker.concurrency}),
    maxAttempts: Number(process.env.MAX_ATTEMPTS ?? ${spec.worker.maxAttempts}),
    backoffMs: 500,
    handle: (job) => handle(job),
  });
  const lines = createInterface({ input: process.stdin });
  const shutdown = () => lines.close();
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  for await (const line of lines) {
    if (!line.trim()) continue;
    try {
      worker.enqueue(JSON.parse(line) as unknown);
    } catch {
      console.error('skipped a line that is not JSON');
    }
  }
  await worker.stop();
  for (const dead of worker.deadLetters) console.error(JSON.stringify({ deadLetter: dead }));
  console.error(JSON.stringify({ completed: worker.completed.length, deadLetters: worker.deadLetters.length }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`;
}

/** src/main.ts receiving signed webhook deliveries over HTTP and queueing them for the worker. */
function webhookMain(spec: OfflineSpec): string {
  const n = entityNames(spec.entity);
  return `${header(spec.kind)}import { createServer } from 'node:http';
import { create${n.type}Handler } from './handler';
import { receiveWebhook } from './webhook';
import { JobWorker } from './worker';

/** Largest delivery accepted, in bytes. */
const MAX_BODY = 1_000_000;

const secret = process.env.WEBHOOK_SECRET ?? '';
if (!secret) console.warn('WEBHOOK_SECRET is empty: every delivery will be refused with 401');

const handle = create${n.type}Handler((job) => {
  console.log(JSON.stringify({ processed: job }));
});
const worker = new JobWorker<unknown>({
  concurrency: Number(process.env.CONCURRENCY ?? ${spec.worker.concurrency}),
  maxAttempts: Number(process.env.MAX_ATTEMPTS ?? ${spec.worker.maxAttempts}),
  backoffMs: 500,
  handle: (job) => handle(job),
});

/** POST / with the event as JSON and its signature header: 202 queued, 401 bad signature, 400 not JSON. */
const server = createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY) req.destroy();
    else chunks.push(chunk);
  });
  req.on('end', () => {
    const answer = receiveWebhook({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }, secret, (event) =>
      worker.enqueue(event),
    );
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
});

const port = Number(process.env.PORT ?? ${spec.port});
server.listen(port, () => console.log('${spec.projectName} receiving webhooks on http://127.0.0.1:' + port + '/'));
const shutdown = () => server.close(() => void worker.stop());
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
`;
}

/** test/worker.test.ts: concurrency bound, retries with backoff, dead letters, permanent failures, graceful stop. */
export function backgroundWorkerTests(spec: OfflineSpec): GeneratedFile[] {
  const n = entityNames(spec.entity);
  const concurrency = spec.worker.concurrency;
  const attempts = spec.worker.maxAttempts;
  const content = `${header(spec.kind)}import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { create${n.type}Handler } from '../src/handler';
import type { ${n.input} } from '../src/${n.module}';
import { JobWorker } from '../src/worker';

const job: ${n.input} = ${JSON.stringify(sampleObject(spec.entity))};
const CONCURRENCY = ${concurrency};
const MAX_ATTEMPTS = ${attempts};

test('never runs more than ${concurrency} job(s) at once, and runs them all', async () => {
  let running = 0;
  let peak = 0;
  const worker = new JobWorker<number>({
    concurrency: CONCURRENCY,
    maxAttempts: MAX_ATTEMPTS,
    backoffMs: 1,
    handle: async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(5);
      running--;
    },
  });
  for (let i = 0; i < CONCURRENCY * 3; i++) worker.enqueue(i);
  await worker.onIdle();
  assert.equal(peak, CONCURRENCY);
  assert.equal(worker.completed.length, CONCURRENCY * 3);
});

test('retries a failing job with backoff until it succeeds', async () => {
  const seen: number[] = [];
  const worker = new JobWorker<string>({
    concurrency: CONCURRENCY,
    maxAttempts: MAX_ATTEMPTS,
    backoffMs: 2,
    handle: async (_job, attempt) => {
      seen.push(attempt);
      if (attempt < MAX_ATTEMPTS) throw new Error('transient failure ' + attempt);
    },
  });
  worker.enqueue('flaky');
  await worker.onIdle();
  assert.deepEqual(seen, Array.from({ length: MAX_ATTEMPTS }, (_, i) => i + 1));
  assert.deepEqual(worker.completed, [{ job: 'flaky', attempts: MAX_ATTEMPTS }]);
});

test('a job that keeps failing goes to the dead letters after ${attempts} attempt(s)', async () => {
  const worker = new JobWorker<string>({
    concurrency: CONCURRENCY,
    maxAttempts: MAX_ATTEMPTS,
    backoffMs: 1,
    handle: async () => {
      throw new Error('always fails');
    },
  });
  worker.enqueue('doomed');
  await worker.onIdle();
  assert.deepEqual(worker.deadLetters, [{ job: 'doomed', attempts: MAX_ATTEMPTS, error: 'always fails' }]);
});

test('the handler passes valid ${n.label} jobs on and fails invalid ones permanently, without retries', async () => {
  const received: ${n.input}[] = [];
  const handle = create${n.type}Handler((valid) => {
    received.push(valid);
  });
  const worker = new JobWorker<unknown>({ concurrency: CONCURRENCY, maxAttempts: MAX_ATTEMPTS, backoffMs: 1, handle: (raw) => handle(raw) });
  worker.enqueue(job);
  worker.enqueue({ not: 'a ${n.label}' });
  await worker.onIdle();
  assert.deepEqual(received, [job]);
  assert.equal(worker.deadLetters.length, 1);
  assert.equal(worker.deadLetters[0]!.attempts, 1);
  assert.match(worker.deadLetters[0]!.error!, /invalid ${n.label} job/);
});

test('stop() refuses new jobs and waits for the ones in flight', async () => {
  let finished = 0;
  const worker = new JobWorker<number>({
    concurrency: CONCURRENCY,
    maxAttempts: MAX_ATTEMPTS,
    backoffMs: 1,
    handle: async () => {
      await sleep(20);
      finished++;
    },
  });
  worker.enqueue(1);
  worker.enqueue(2);
  const stopped = worker.stop();
  assert.throws(() => worker.enqueue(3), /stopping/);
  await stopped;
  assert.equal(finished, 2);
  assert.equal(worker.inFlight, 0);
});
`;
  return [
    { path: 'test/worker.test.ts', content, language: 'typescript' },
    ...(webhooks(spec) ? [webhookTests(spec.kind, sampleObject(spec.entity))] : []),
  ];
}

export function backgroundWorkerUsage(spec: OfflineSpec): string[] {
  const tuning = `\`CONCURRENCY\` (default ${spec.worker.concurrency}) and \`MAX_ATTEMPTS\` (default ${spec.worker.maxAttempts}) tune the worker; retries back off exponentially from 500 ms. Invalid payloads go straight to the dead letters. Replace the sink in \`src/main.ts\` with the job's real work.`;
  if (webhooks(spec)) {
    return [
      '```sh',
      'npm run build',
      `WEBHOOK_SECRET=<shared secret> PORT=${spec.port} node dist/src/main.js`,
      '```',
      '',
      `Deliveries are \`POST /\` with the event as JSON and \`x-signature-256: sha256=<hex HMAC-SHA256 of the raw body under WEBHOOK_SECRET>\`. A missing or wrong signature is refused with 401 (compared in constant time), a body that is not JSON with 400; a verified event is queued (202). ${tuning}`,
    ];
  }
  return [
    '```sh',
    'npm run build',
    `echo '${JSON.stringify(sampleObject(spec.entity))}' | node dist/src/main.js`,
    '```',
    '',
    `Jobs are JSON lines on stdin. ${tuning}`,
  ];
}
