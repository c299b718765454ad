import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

// Who owns a sandbox, and whether that owner still lives. Every sandbox carries the id of the worker
// that made it (random per process, never reused) and that worker's host identity (from the OS, not the
// HOSTNAME variable bash does not export). A worker holds a lease file while it runs sandboxes; a reaper
// removes only sandboxes whose owner's lease is provably dead on this host: in this pid namespace, its
// process is gone (or a new one has its pid); seen from another namespace, its heartbeat is stale.

/** How often a live worker touches its lease, and how old a heartbeat may be before it proves nothing alive. */
export const HEARTBEAT_MS = 5_000;
export const STALE_MS = 60_000;
const PRUNE_MS = 24 * 3_600_000;

export interface WorkerIdentity {
  /** Random per worker process: 16 hex characters. */
  workerId: string;
  /** The OS host name and machine id: the same for every worker (and namespace) on this machine. */
  host: string;
  /** This boot of the host: a lease of an earlier boot belongs to no living process. */
  boot: string;
  /** The pid namespace the pid below means something in. */
  pidNs: string;
  pid: number;
  /** When the kernel started the process (clock ticks since boot): tells a reused pid from the original. */
  pidStart: string;
}

const firstLine = (file: string) => {
  try {
    return readFileSync(file, 'utf8').split('\n')[0]!.trim();
  } catch {
    return '';
  }
};

function processStart(pid: number): string {
  // /proc/<pid>/stat: "pid (comm) state …"; comm may hold spaces and parentheses, so count after the last ')'.
  const stat = firstLine(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
}

export const WORKER: WorkerIdentity = {
  workerId: randomBytes(8).toString('hex'),
  host: [hostname(), firstLine('/etc/machine-id') || firstLine('/var/lib/dbus/machine-id')].filter(Boolean).join('/'),
  boot: firstLine('/proc/sys/kernel/random/boot_id'),
  pidNs: pidNamespace(),
  pid: process.pid,
  pidStart: processStart(process.pid),
};

export const WORKER_ID_PATTERN = /^[0-9a-f]{16}$/;

/** Where this host's workers keep their leases (per uid: a lease others could write would prove nothing). */
export function leaseDir(): string {
  return process.env.QLP_SANDBOX_LEASE_DIR ?? join(tmpdir(), `qlp-sandbox-leases-${process.getuid?.() ?? 0}`);
}

const leaseFile = (workerId: string) => join(leaseDir(), `${workerId}.json`);

let holding: Promise<void> | undefined;

/** Takes this worker's lease (once) and keeps its heartbeat going while the process lives; before any launch. */
export function holdLease(): Promise<void> {
  holding ??= (async () => {
    await mkdir(leaseDir(), { recursive: true, mode: 0o700 });
    await writeFile(leaseFile(WORKER.workerId), JSON.stringify(WORKER), { mode: 0o600 });
    const beat = setInterval(() => {
      const now = new Date();
      void utimes(leaseFile(WORKER.workerId), now, now).catch(() => undefined);
    }, HEARTBEAT_MS);
    beat.unref();
  })();
  return holding;
}

export type LeaseState = 'alive' | 'dead' | 'unknown';

/** Whether the worker that owns a sandbox still lives: `unknown` (no lease here to judge by) is never reaped. */
export async function leaseState(workerId: string, now = Date.now()): Promise<LeaseState> {
  if (workerId === WORKER.workerId) return 'alive';
  if (!WORKER_ID_PATTERN.test(workerId)) return 'unknown';
  let lease: WorkerIdentity;
  let heartbeatMs: number;
  try {
    const file = leaseFile(workerId);
    heartbeatMs = (await stat(file)).mtimeMs;
    lease = JSON.parse(await readFile(file, 'utf8')) as WorkerIdentity;
  } catch {
    return 'unknown';
  }
  if (lease.host !== WORKER.host) return 'unknown';
  if (lease.boot && WORKER.boot && lease.boot !== WORKER.boot) return 'dead';
  if (lease.pidNs && lease.pidNs === WORKER.pidNs && lease.pidStart) {
    // Provable here: the process is gone, or its pid now belongs to a process started later.
    return processStart(lease.pid) === lease.pidStart && lease.pidStart !== '' ? 'alive' : 'dead';
  }
  return now - heartbeatMs > STALE_MS ? 'dead' : 'alive';
}

/** Removes leases of workers dead for a day: long after a reaper had its chance at their sandboxes. */
export async function pruneDeadLeases(now = Date.now()): Promise<void> {
  for (const name of await readdir(leaseDir()).catch(() => [] as string[])) {
    const workerId = name.replace(/\.json$/, '');
    const heartbeatMs = (await stat(leaseFile(workerId)).catch(() => undefined))?.mtimeMs ?? now;
    if (now - heartbeatMs > PRUNE_MS && (await leaseState(workerId, now)) === 'dead')
      await rm(leaseFile(workerId), { force: true });
  }
}
