/**
 * The stack a bench runs on, shared by dag.ts and chaos.ts: its own Temporal dev server (database
 * file), SeaweedFS and a fresh PostgreSQL database; the real API and workers as separate processes
 * (bench/bench-worker.ts), each with its log file, measurable by pid (/proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Client as Pg } from 'pg';
import { createDatabase } from '../adapters/db/client';
import { prepareDatabase } from '../adapters/db/migrate';
import { createApiKey } from '../adapters/identity/api-keys';
import { loadConfig, type Config } from '../config';
import type { Role } from '../contracts/identity';
import { startServices, stopServices } from '../scripts/services';
import { sleep, waitUntil } from '../scripts/services/wait';

const root = join(__dirname, '..');
const CLK_TCK = 100; // getconf CLK_TCK on Linux

export const percentile = (values: number[], p: number) => {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))]!;
};
export const round = (n: number, digits = 1) => Number(n.toFixed(digits));

/** Peak resident set size (VmHWM) of a process, in MB (0 once it has gone). */
export function peakRssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

/** CPU time of a process so far, in ms: its own threads, and its waited-for children (e.g. bwrap runs). */
export function cpuMs(pid: number): { self: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14 … cstime 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = (i: number) => (Number(fields[i - 3]) * 1000) / CLK_TCK;
  return { self: tick(14) + tick(15), children: tick(16) + tick(17) };
}

/** Busy CPU time of the whole machine so far, in ms (all processes, including other people's). */
export function machineBusyMs(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = ticks.map(Number);
  const idle = n[3]! + n[4]!; // idle + iowait
  return ((n.reduce((a, b) => a + b, 0) - idle) * 1000) / CLK_TCK;
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

export interface StackOptions {
  /** First of the ports this stack uses (Temporal +0, UI +7, S3 +17, API +47). */
  portBase: number;
  taskQueue: string;
  env?: Record<string, string>;
}

/** A process of the stack: its pid, log file and whether it printed its ready line. */
export class StackProcess {
  readonly startedAt = performance.now();
  readyAt?: number;
  exited = false;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    child.on('exit', () => (this.exited = true));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (this.readyAt === undefined && /bench worker ready/.test(chunk.toString())) this.readyAt = performance.now();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves when the process printed its ready line (workers: "bench worker ready"). */
  async ready(timeoutMs = 120_000): Promise<number> {
    await waitUntil(
      async () => {
        if (this.readyAt === undefined) throw new Error(`${this.name} not ready`);
      },
      {
        timeoutMs,
        intervalMs: 50,
        abortReason: () => (this.exited ? `${this.name} exited; see ${this.logFile}` : undefined),
      },
    );
    return this.readyAt!;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.exited) this.child.kill(signal);
  }

  async stop(graceMs = 15_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await Promise.race([exited, sleep(graceMs)]);
    if (!this.exited) {
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}

export class Stack {
  readonly runId = randomBytes(3).toString('hex');
  readonly env: Record<string, string>;
  readonly config: Config;
  readonly api: string;
  readonly processes: StackProcess[] = [];
  temporal!: Client;
  connection!: Connection;
  pg!: Pg;
  private dbName: string;

  constructor(private readonly options: StackOptions) {
    const p = options.portBase;
    this.dbName = `qlp_bench_${this.runId}`;
    this.env = {
      QLP_DATA_DIR: join(tmpdir(), `qlp-bench-${this.runId}`),
      TEMPORAL_ADDRESS: `127.0.0.1:${p}`,
      TEMPORAL_UI_URL: `http://127.0.0.1:${p + 7}`,
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      S3_ENDPOINT: `http://127.0.0.1:${p + 17}`,
      API_PORT: String(p + 47),
      QLP_API_URL: `http://127.0.0.1:${p + 47}`,
      DATABASE_URL: `postgresql://postgres@127.0.0.1:5432/${this.dbName}`,
      LOG_LEVEL: 'warn',
      ...options.env,
    };
    Object.assign(process.env, this.env);
    this.config = loadConfig();
    this.api = `${this.config.api.publicUrl}/api/v1`;
    mkdirSync(this.logDir, { recursive: true });
  }

  get logDir(): string {
    return join(this.config.dataDir, 'bench-logs');
  }

  async start(temporalInMemory = false): Promise<void> {
    await startServices(this.config, { prepareDatabase, temporalInMemory });
    this.connection = await Connection.connect({ address: this.config.temporal.address });
    this.temporal = new Client({ connection: this.connection, namespace: this.config.temporal.namespace });
    this.pg = new Pg({ connectionString: this.config.databaseUrl });
    await this.pg.connect();
    await createBenchKeys(this.config.databaseUrl);
  }

  /** Starts `entry` (tsx) with the stack's environment plus `env`; stdout and stderr go to its log file. */
  spawn(name: string, entry: string, env: Record<string, string> = {}): StackProcess {
    const logFile = join(this.logDir, `${name}-${this.processes.length}.log`);
    const log = createWriteStream(logFile);
    const child = spawn(
      process.execPath,
      ['--import', join(root, 'node_modules/tsx/dist/loader.mjs'), join(root, entry)],
      { env: { ...process.env, ...this.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    const started = new StackProcess(name, child, logFile);
    this.processes.push(started);
    return started;
  }

  /** An API process on `port` (default: the stack's), waited for until /health answers. */
  async startApi(env: Record<string, string> = {}): Promise<StackProcess> {
    const api = this.spawn('api', 'api/server.ts', env);
    const url = `${env.QLP_API_URL ?? this.config.api.publicUrl}/api/v1/health`;
    await waitUntil(
      async () => {
        if (!(await fetch(url)).ok) throw new Error('API not healthy');
      },
      { timeoutMs: 90_000, abortReason: () => (api.exited ? `API exited; see ${api.logFile}` : undefined) },
    );
    api.readyAt ??= performance.now();
    return api;
  }

  async stop(keepLogs = false): Promise<void> {
    await Promise.allSettled(this.processes.map((p) => p.stop()));
    await this.pg?.end().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
    await stopServices(this.config.dataDir, { graceMs: 5000 });
    const admin = new Pg({ connectionString: this.config.databaseUrl.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${this.dbName}" WITH (FORCE)`);
    await admin.end();
    // The processes' logs outlive the stack (worker warnings, activity logs): copied next to it.
    const logs = join(tmpdir(), `qlp-bench-logs-${this.runId}`);
    if (existsSync(this.logDir)) {
      cpSync(this.logDir, logs, { recursive: true });
      console.log(`logs in ${logs}`);
    }
    if (!keepLogs) rmSync(this.config.dataDir, { recursive: true, force: true });
    else console.log(`stack data kept in ${this.config.dataDir}`);
  }
}

export interface Submitted {
  id: string;
  workflowId: string;
}

/** The bench's two people: a submitter and an approver (the gate refuses self-approval). */
const keys = { submitter: '', approver: '' };
const as = (key: string) => ({ authorization: `Bearer ${key}` });

/** Real API keys in the bench's database, as `npm run key:create` makes them. */
async function createBenchKeys(databaseUrl: string): Promise<void> {
  const db = createDatabase(databaseUrl, { maxConnections: 1 });
  try {
    const create = async (name: string, roles: Role[]) =>
      (await createApiKey(db, { name, tenant: 'default', roles, createdBy: 'bench' })).key;
    keys.submitter = await create('bench-submitter', ['submitter', 'auditor']);
    keys.approver = await create('bench-approver', ['approver']);
  } finally {
    await db.$disconnect();
  }
}

export async function submitIntent(api: string, text: string): Promise<Submitted> {
  const response = await fetch(`${api}/intents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...as(keys.submitter) },
    body: JSON.stringify({ text }),
  });
  if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Submitted;
}

export async function getIntent<T = Record<string, unknown>>(api: string, id: string): Promise<T> {
  const response = await fetch(`${api}/intents/${id}`, { headers: as(keys.submitter) });
  if (!response.ok) throw new Error(`GET intent ${id} answered ${response.status}`);
  return (await response.json()) as T;
}

/** Decides as the bench's approver, bound to the review digest the gate shows. */
export async function decide(api: string, id: string, decision: 'approve' | 'reject'): Promise<Response> {
  const { gate } = await getIntent<{ gate: { digest?: string } | null }>(api, id);
  return fetch(`${api}/intents/${id}/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...as(keys.approver) },
    body: JSON.stringify({ decision, digest: gate?.digest, reason: decision === 'reject' ? 'bench' : undefined }),
  });
}

/** Runs `run` `total` times with at most `concurrency` at once; the elapsed ms. */
export async function withConcurrency(
  total: number,
  concurrency: number,
  run: () => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await run();
    }),
  );
  return performance.now() - started;
}
