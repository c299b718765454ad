/**
 * DAG orchestration benchmark (issue 4). Starts its own stack (Temporal dev server with a database
 * file, SeaweedFS, a fresh PostgreSQL database), the real API and a worker as separate processes,
 * then measures:
 *   (a) fan-out efficiency of a width-10 DAG of 1 s tasks: ideal wall time ÷ measured
 *   (b) orchestration latency of a 5-task intent, submit → COMPLETED with auto-approval: p50/p99
 *   (c) sustained throughput at 50 intents in flight, intents per minute
 *   (d) peak RSS of the worker and the API
 *   (e) the dev server's own ceiling: a one-activity workflow's throughput and latency
 * Prints a table and saves JSON under bench/results/.
 *   npx tsx bench/dag.ts            (BENCH_LATENCY_N=200 BENCH_THROUGHPUT_N=300 by default)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Client as Pg } from 'pg';
import { prepareDatabase } from '../adapters/db/migrate';
import { loadConfig } from '../config';
import { startServices, stopServices } from '../scripts/services';
import { waitUntil } from '../scripts/services/wait';
import type { trivialWorkflow } from './trivial-workflow';

const LATENCY_N = Number(process.env.BENCH_LATENCY_N ?? 200);
const THROUGHPUT_N = Number(process.env.BENCH_THROUGHPUT_N ?? 300);
const CONCURRENCY = 50;
// BENCH_TEMPORAL_IN_MEMORY=1: a dev server without its SQLite file, to see what persistence costs.
const IN_MEMORY = process.env.BENCH_TEMPORAL_IN_MEMORY === '1';
const root = join(__dirname, '..');

const runId = randomBytes(3).toString('hex');
const env: Record<string, string> = {
  QLP_DATA_DIR: join(tmpdir(), `qlp-bench-${runId}`),
  TEMPORAL_ADDRESS: '127.0.0.1:47233',
  TEMPORAL_UI_URL: 'http://127.0.0.1:47240',
  TEMPORAL_TASK_QUEUE: 'bench',
  S3_ENDPOINT: 'http://127.0.0.1:47250',
  API_PORT: '47280',
  QLP_API_URL: 'http://127.0.0.1:47280',
  DATABASE_URL: `postgresql://postgres@127.0.0.1:5432/qlp_bench_${runId}`,
  AUTO_APPROVE: 'true',
  LOG_LEVEL: 'warn',
};
Object.assign(process.env, env);
const config = loadConfig();
const api = `${config.api.publicUrl}/api/v1`;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const round = (n: number, digits = 1) => Number(n.toFixed(digits));

function startProcess(entry: string): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--import', join(root, 'node_modules/tsx/dist/loader.mjs'), join(root, entry)],
    {
      env: process.env,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return child;
}

/** Peak resident set size (VmHWM) of a process, in MB. */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
}

async function submit(shape: string): Promise<{ id: string; workflowId: string }> {
  const response = await fetch(`${api}/intents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: `bench:${shape}` }),
  });
  if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { id: string; workflowId: string };
}

/** Submit through the API, then wait on the workflow's result: the user-visible end-to-end time. */
async function runIntent(temporal: Client, shape: string): Promise<number> {
  const started = performance.now();
  const { workflowId } = await submit(shape);
  const outcome = (await temporal.workflow.getHandle(workflowId).result()) as { status: string };
  if (outcome.status !== 'COMPLETED') throw new Error(`${workflowId} ended ${outcome.status}`);
  return performance.now() - started;
}

async function withConcurrency(total: number, concurrency: number, run: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await run();
    }),
  );
  return performance.now() - started;
}

/** Time between two status transitions of an intent, from its audit trail. */
async function phaseMs(pg: Pg, intentId: string, from: string, to: string): Promise<number> {
  const { rows } = await pg.query<{ type: string; created_at: Date }>(
    'SELECT type, created_at FROM audit_events WHERE intent_id = $1',
    [intentId],
  );
  const at = (type: string) => rows.find((r) => r.type === type)!.created_at.getTime();
  return at(to) - at(from);
}

/** How many server round trips one intent costs: workflow tasks and activity tasks, parent and children. */
async function roundTrips(temporal: Client, workflowId: string) {
  const count = { workflowTasks: 0, activityTasks: 0, localActivities: 0, children: 0, events: 0 };
  const histories = [workflowId];
  for (let i = 0; i < histories.length; i++) {
    const history = await temporal.workflow.getHandle(histories[i]!).fetchHistory();
    for (const event of history.events ?? []) {
      count.events++;
      if (event.workflowTaskCompletedEventAttributes) count.workflowTasks++;
      if (event.activityTaskScheduledEventAttributes) count.activityTasks++;
      if (event.markerRecordedEventAttributes) count.localActivities++;
      const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
      if (child) {
        count.children++;
        histories.push(child);
      }
    }
  }
  return count;
}

async function trivialCeiling(connection: Connection, temporal: Client) {
  const native = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection: native,
    taskQueue: 'bench-trivial',
    workflowsPath: require.resolve('./trivial-workflow'),
    activities: { noop: async () => undefined },
  });
  const run = () =>
    temporal.workflow.execute<typeof trivialWorkflow>('trivialWorkflow', {
      taskQueue: 'bench-trivial',
      workflowId: `trivial-${randomBytes(8).toString('hex')}`,
    });
  const result = await worker.runUntil(async () => {
    for (let i = 0; i < 10; i++) await run(); // warm-up
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_N; i++) {
      const started = performance.now();
      await run();
      latencies.push(performance.now() - started);
    }
    const elapsed = await withConcurrency(THROUGHPUT_N, CONCURRENCY, run);
    return {
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      perMinute: round((THROUGHPUT_N / elapsed) * 60_000, 0),
    };
  });
  await native.close(); // only once the worker has shut down and released it
  return result;
}

async function main() {
  console.log(
    `bench stack in ${env.QLP_DATA_DIR}; latency n=${LATENCY_N}, throughput n=${THROUGHPUT_N} at ${CONCURRENCY} in flight`,
  );
  await startServices(config, { prepareDatabase, temporalInMemory: IN_MEMORY });
  const workerProcess = startProcess('bench/bench-worker.ts');
  const apiProcess = startProcess('api/server.ts');
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const pg = new Pg({ connectionString: config.databaseUrl });
  await pg.connect();
  try {
    await waitUntil(
      async () => {
        if (!(await fetch(`${api}/health`)).ok) throw new Error('API not healthy');
      },
      { timeoutMs: 60_000 },
    );
    for (let i = 0; i < 10; i++) await runIntent(temporal, 'five'); // warm-up: bundles, connections, JIT

    // (b) latency, one at a time
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_N; i++) latencies.push(await runIntent(temporal, 'five'));
    console.log(`latency: p50 ${round(percentile(latencies, 50))} ms, p99 ${round(percentile(latencies, 99))} ms`);

    // (a) fan-out efficiency: ideal is one task's second, all ten side by side
    const efficiencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { id, workflowId } = await submit('width10');
      await temporal.workflow.getHandle(workflowId).result();
      efficiencies.push(1000 / (await phaseMs(pg, id, 'intent.executing', 'intent.validating')));
    }

    // (c) throughput with 50 in flight
    console.log(`fan-out efficiency: ${efficiencies.map((e) => round(e, 3)).join(', ')}`);
    const elapsed = await withConcurrency(THROUGHPUT_N, CONCURRENCY, () => runIntent(temporal, 'five'));
    console.log(`throughput: ${round((THROUGHPUT_N / elapsed) * 60_000, 0)} intents/min`);

    // round trips of one 5-task intent
    const sample = await submit('five');
    await temporal.workflow.getHandle(sample.workflowId).result();
    const trips = await roundTrips(temporal, sample.workflowId);

    // (d) peak memory
    const rss = { workerMb: peakRssMb(workerProcess.pid!), apiMb: peakRssMb(apiProcess.pid!) };

    // (e) the dev server's ceiling
    const ceiling = await trivialCeiling(connection, temporal);

    const perMinute = (THROUGHPUT_N / elapsed) * 60_000;
    const results = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      settings: {
        temporalPersistence: IN_MEMORY ? 'in-memory' : 'sqlite file',
        latencyN: LATENCY_N,
        throughputN: THROUGHPUT_N,
        concurrency: CONCURRENCY,
        maxTaskConcurrency: config.dag.maxConcurrency,
        // Layer 2 runs each intent's project in this sandbox (auto: Docker when an engine answers).
        sandbox: config.sandbox.driver,
      },
      fanOutEfficiency: {
        median: round(percentile(efficiencies, 50), 3),
        runs: efficiencies.map((e) => round(e, 3)),
        target: 0.87,
      },
      latency5Task: {
        p50Ms: round(percentile(latencies, 50)),
        p99Ms: round(percentile(latencies, 99)),
        target: 'p50 ≤ 77 ms',
      },
      throughput: { intentsPerMinute: round(perMinute, 0), target: 1200 },
      peakRss: { ...rss, target: '< 300 MB' },
      devServerCeiling: { trivialWorkflow: ceiling, ratioOfOurThroughput: round(perMinute / ceiling.perMinute, 3) },
      roundTripsPer5TaskIntent: trips,
    };
    printTable(results);
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    const file = join(__dirname, 'results', `dag-${results.date.slice(0, 19).replace(/[:T]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nsaved ${file}`);
  } finally {
    await pg.end();
    await connection.close();
    workerProcess.kill('SIGTERM');
    apiProcess.kill('SIGTERM');
    await stopServices(config.dataDir, { graceMs: 5000 });
    const admin = new Pg({ connectionString: config.databaseUrl.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "qlp_bench_${runId}" WITH (FORCE)`);
    await admin.end();
    rmSync(config.dataDir, { recursive: true, force: true });
  }
}

function printTable(r: {
  fanOutEfficiency: { median: number };
  latency5Task: { p50Ms: number; p99Ms: number };
  throughput: { intentsPerMinute: number };
  peakRss: { workerMb: number; apiMb: number };
  devServerCeiling: { trivialWorkflow: { p50Ms: number; perMinute: number }; ratioOfOurThroughput: number };
  roundTripsPer5TaskIntent: {
    workflowTasks: number;
    activityTasks: number;
    localActivities: number;
    children: number;
    events: number;
  };
}) {
  const rows: [string, string, string][] = [
    ['(a) fan-out efficiency, width 10 × 1 s', String(r.fanOutEfficiency.median), '≥ 0.87'],
    ['(b) 5-task intent latency p50', `${r.latency5Task.p50Ms} ms`, '≤ 77 ms'],
    ['(b) 5-task intent latency p99', `${r.latency5Task.p99Ms} ms`, ''],
    ['(c) throughput, 50 in flight', `${r.throughput.intentsPerMinute} intents/min`, '≥ 1,200/min'],
    ['(d) peak RSS worker / API', `${r.peakRss.workerMb} / ${r.peakRss.apiMb} MB`, '< 300 MB'],
    [
      '(e) dev-server ceiling: 1-activity wf',
      `${r.devServerCeiling.trivialWorkflow.perMinute}/min, p50 ${r.devServerCeiling.trivialWorkflow.p50Ms} ms`,
      '',
    ],
    ['    our throughput ÷ ceiling', String(r.devServerCeiling.ratioOfOurThroughput), ''],
  ];
  const t = r.roundTripsPer5TaskIntent;
  rows.push([
    'round trips per 5-task intent',
    `${t.workflowTasks} wf tasks, ${t.activityTasks} activities, ${t.localActivities} local, ${t.children} children, ${t.events} events`,
    '',
  ]);
  const width = Math.max(...rows.map((row) => row[0].length));
  console.log('');
  for (const [name, value, target] of rows) console.log(`${name.padEnd(width)}  ${value.padEnd(44)}  ${target}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
