import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { BubblewrapSandbox } from '../../adapters/sandbox/bubblewrap';
import { DockerSandbox } from '../../adapters/sandbox/docker';
import { OWNER, type SandboxDriver } from '../../adapters/sandbox/driver';
import { leaseDir, leaseState, STALE_MS, WORKER, type WorkerIdentity } from '../../adapters/sandbox/worker-lease';

// Two worker processes on one host, each with a live sandbox: neither's reaper (nor a third worker's)
// removes the other's; once one dies, the other's reaper removes its leftovers. Then how a lease is
// judged when the pid cannot be (another pid namespace): by its heartbeat.

const REPO = join(__dirname, '..', '..');
const CGROUP_ROOT = '/sys/fs/cgroup';

interface Started {
  id: string;
  pid: number;
  workerId: string;
}

interface WorkerProcess {
  child: ChildProcessWithoutNullStreams;
  info: Started;
  reap(): Promise<number>;
  kill(): Promise<void>;
}

/** A worker process; `ownPidNamespace`: in a pid namespace of its own (pid 1 there, as in a container). */
async function startWorker(driverName: string, ownPidNamespace = false): Promise<WorkerProcess> {
  const script = join(__dirname, 'ownership-worker.ts');
  const node = [process.execPath, '--import', 'tsx', script, driverName];
  const [command, ...args] = ownPidNamespace
    ? ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', ...node]
    : node;
  const child = spawn(command!, args, { cwd: REPO });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let out = '';
  let stderr = '';
  const waiters: ((line: string) => void)[] = [];
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    const lines = out.split('\n');
    out = lines.pop()!;
    for (const line of lines) waiters.shift()?.(line);
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker ${child.pid} said nothing: ${stderr}`)), 90_000);
      waiters.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  const first = await next();
  const match = /^started (.*)$/.exec(first);
  if (!match) throw new Error(`worker did not start: ${first} ${stderr}`);
  return {
    child,
    info: JSON.parse(match[1]!) as Started,
    async reap() {
      const answer = next();
      child.stdin.write('reap\n');
      const line = await answer;
      const count = /^reaped (\d+)$/.exec(line);
      if (!count) throw new Error(`reap failed: ${line}`);
      return Number(count[1]);
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Whether the run's sandbox is still there: its container (Docker), its two cgroups (bubblewrap). */
async function sandboxExists(driverName: string, started: Started): Promise<boolean> {
  if (driverName === 'docker') {
    return new Docker()
      .getContainer(started.id)
      .inspect()
      .then(
        () => true,
        () => false,
      );
  }
  let found = 0;
  for (const controller of ['memory', 'pids']) {
    const names = await readdir(join(CGROUP_ROOT, controller, 'qlp-sandbox')).catch(() => [] as string[]);
    found += names.filter((name) => name.startsWith(`${started.pid}-${started.workerId}-`)).length;
  }
  return found === 2;
}

describe.each(['bubblewrap', 'docker'])('%s: two workers on one host', (driverName) => {
  const driver: SandboxDriver = driverName === 'docker' ? new DockerSandbox() : new BubblewrapSandbox();
  let a: WorkerProcess | undefined;
  let b: WorkerProcess | undefined;
  let c: WorkerProcess | undefined;

  afterAll(async () => {
    for (const worker of [a, b, c]) {
      if (!worker) continue;
      await worker.kill();
      expireLease(worker.info.workerId);
      await driver.reap({ ownerPid: worker.info.pid });
    }
  });

  test("each reaper leaves the other's live sandbox alone; a dead worker's leftovers are reaped", async () => {
    [a, b] = await Promise.all([startWorker(driverName), startWorker(driverName)]);
    expect(a.info.workerId).not.toBe(b.info.workerId);
    expect(await sandboxExists(driverName, a.info)).toBe(true);
    expect(await sandboxExists(driverName, b.info)).toBe(true);

    await a.reap();
    await b.reap();
    await driver.reap(); // a third worker on the host: this test process
    expect(await sandboxExists(driverName, a.info)).toBe(true);
    expect(await sandboxExists(driverName, b.info)).toBe(true);

    await b.kill();
    expect(await sandboxExists(driverName, b.info)).toBe(true); // left behind by the dead worker…
    expect(await a.reap()).toBeGreaterThanOrEqual(1); // …and reaped by the live one
    expect(await sandboxExists(driverName, b.info)).toBe(false);
    expect(await sandboxExists(driverName, a.info)).toBe(true);
  }, 240_000);

  test('a worker in a pid namespace of its own keeps its live sandbox; once dead, it goes when its heartbeat is stale', async () => {
    c = await startWorker(driverName, true);
    expect(c.info.pid).toBeLessThan(10); // a pid that means nothing (or another process) out here
    await a!.reap();
    await driver.reap();
    expect(await sandboxExists(driverName, c.info)).toBe(true);

    await c.kill();
    await a!.reap(); // its pid proves nothing here and its heartbeat is fresh: kept, for now
    expect(await sandboxExists(driverName, c.info)).toBe(true);
    expireLease(c.info.workerId); // what a minute without heartbeats looks like
    expect(await a!.reap()).toBeGreaterThanOrEqual(1);
    expect(await sandboxExists(driverName, c.info)).toBe(false);
    expect(await sandboxExists(driverName, a!.info)).toBe(true);
  }, 240_000);
});

/** Backdates a worker's heartbeat past STALE_MS. */
function expireLease(workerId: string): void {
  const at = new Date(Date.now() - STALE_MS - 60_000);
  try {
    utimesSync(join(leaseDir(), `${workerId}.json`), at, at);
  } catch {
    // no lease: nothing to expire
  }
}

describe('judging a lease', () => {
  let dir: string;
  const previous = process.env.QLP_SANDBOX_LEASE_DIR;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qlp-leases-'));
    process.env.QLP_SANDBOX_LEASE_DIR = dir;
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.QLP_SANDBOX_LEASE_DIR;
    else process.env.QLP_SANDBOX_LEASE_DIR = previous;
    rmSync(dir, { recursive: true, force: true });
  });

  let next = 0;
  function lease(overrides: Partial<WorkerIdentity>, heartbeatAgeMs = 0): string {
    const workerId = (++next).toString(16).padStart(16, 'a');
    const file = join(dir, `${workerId}.json`);
    writeFileSync(file, JSON.stringify({ ...WORKER, workerId, ...overrides }));
    const at = new Date(Date.now() - heartbeatAgeMs);
    utimesSync(file, at, at);
    return workerId;
  }

  test('the owner is who the OS says this host is, not the HOSTNAME variable', () => {
    expect(OWNER.host.startsWith(hostname())).toBe(true);
    expect(OWNER.workerId).toMatch(/^[0-9a-f]{16}$/);
  });

  test('in this pid namespace, the process decides: gone, or its pid reused by a later process, is dead', async () => {
    expect(await leaseState(lease({ pid: process.pid }))).toBe('alive'); // this very process, same start time
    expect(await leaseState(lease({ pid: process.pid, pidStart: '1' }))).toBe('dead'); // the pid, reused
    expect(await leaseState(lease({ pid: 2 ** 22 + 17 }))).toBe('dead'); // no such process
  });

  test('from another pid namespace, a fresh heartbeat is alive and a stale one dead', async () => {
    const foreign = { pidNs: 'pid:[1]', pid: 1, pidStart: '5' };
    expect(await leaseState(lease(foreign, 1_000))).toBe('alive');
    expect(await leaseState(lease(foreign, STALE_MS + 5_000))).toBe('dead');
  });

  test("another host's lease proves nothing; an earlier boot's is dead; no lease at all is never reaped", async () => {
    expect(await leaseState(lease({ host: 'elsewhere/0000' }, STALE_MS * 10))).toBe('unknown');
    expect(await leaseState(lease({ boot: 'an-earlier-boot' }))).toBe('dead');
    expect(await leaseState('0123456789abcdef')).toBe('unknown');
  });
});
