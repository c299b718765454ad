import { totalmem } from 'node:os';
import { EventEmitter, once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { SandboxDriver, SandboxExit, SandboxProcess } from '../../adapters/sandbox/driver';
import { runInSandbox } from '../../adapters/sandbox/session';
import {
  checkSandboxCapacity,
  defaultMaxConcurrent,
  machineCapacity,
  SandboxSlots,
  type MachineCapacity,
  type QueuedInfo,
} from '../../adapters/sandbox/slots';
import { limitsFor, trivialProject } from './projects';

// The per-worker limit on sandbox runs at once, the memory check at worker start, and what the host accepts
// from a runner, against a fake driver whose runs end when the test says so (no timers, no real sandbox).

const GiB = 1024 ** 3;
const result = {
  steps: [{ step: 'test', status: 'passed', durationMs: 1, outputExcerpt: '' }],
  tests: { passed: 1, failed: 0, skipped: 0, failures: [] },
  limitHits: [],
  missingDependencies: [],
  resources: {},
};
const resultLine = (nonce: string, tests = result.tests) =>
  `QLP ${nonce} result ${JSON.stringify({ ...result, tests })}\n`;

/** One fake run: ends with `lines` on stdout (given the nonce the host sent) and `exitCode`. */
type Finish = (lines: (nonce: string) => string[], exitCode?: number) => void;

class FakeDriver extends EventEmitter implements SandboxDriver {
  readonly name = 'bubblewrap' as const;
  active = 0;
  maxActive = 0;
  readonly runs: Finish[] = [];

  unavailable = async () => undefined;
  reap = async () => 0;

  async launch(): Promise<SandboxProcess> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let request = '';
    stdin.on('data', (chunk: Buffer) => (request += chunk.toString('utf8')));
    const requested = once(stdin, 'end');
    let finish!: Finish;
    const exited = new Promise<SandboxExit>((resolve) => {
      finish = (lines, exitCode = 0) => {
        void requested.then(() => {
          const { nonce } = JSON.parse(request) as { nonce: string };
          stdout.once('end', () => {
            this.active--;
            resolve({ exitCode, hits: [] });
          });
          for (const line of lines(nonce)) stdout.write(line);
          stdout.end();
          stderr.end();
        });
      };
    });
    this.runs.push(finish);
    this.emit('launch', this.runs.length);
    return {
      id: `fake-${this.runs.length}`,
      stdin,
      stdout,
      stderr,
      exited,
      kill: async () => {},
      cleanup: async () => {},
    };
  }

  /** Resolves once `count` runs have been launched. */
  async launched(count: number): Promise<void> {
    while (this.runs.length < count) await once(this, 'launch');
  }
}

describe('sandbox slots', () => {
  test('N+2 runs at once: at most N run, the others wait (told so), all complete', async () => {
    const max = 2;
    const slots = new SandboxSlots(max);
    const driver = new FakeDriver();
    const queued: QueuedInfo[] = [];
    const queuedEvents = new EventEmitter();
    const runs = Array.from({ length: max + 2 }, () =>
      runInSandbox(driver, {
        files: trivialProject(),
        limits: limitsFor(),
        slots,
        onQueued: (info) => {
          queued.push(info);
          queuedEvents.emit('queued');
        },
      }),
    );
    await driver.launched(max);
    while (queued.length < 2) await once(queuedEvents, 'queued');
    expect(driver.runs).toHaveLength(max);
    expect(slots.running).toBe(max);
    expect(slots.waiting).toBe(2);
    expect(queued).toEqual([
      { position: 1, running: max, max },
      { position: 2, running: max, max },
    ]);

    // Each run that ends lets exactly one waiting run start.
    driver.runs[0]!((nonce) => [resultLine(nonce)]);
    await driver.launched(max + 1);
    expect(slots.waiting).toBe(1);
    driver.runs[1]!((nonce) => [resultLine(nonce)]);
    await driver.launched(max + 2);
    expect(slots.waiting).toBe(0);
    driver.runs[2]!((nonce) => [resultLine(nonce)]);
    driver.runs[3]!((nonce) => [resultLine(nonce)]);

    const results = await Promise.all(runs);
    expect(results.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(driver.maxActive).toBe(max);
    expect(slots.running).toBe(0);
    expect(queued).toHaveLength(2); // the first N never waited
  });

  test('a waiting run that is aborted leaves the queue; the slot goes to the next', async () => {
    const slots = new SandboxSlots(1);
    const release = await slots.acquire();
    const controller = new AbortController();
    const aborted = slots.acquire({ signal: controller.signal });
    const next = slots.acquire();
    expect(slots.waiting).toBe(2);
    controller.abort();
    await expect(aborted).rejects.toThrow();
    expect(slots.waiting).toBe(1);
    release();
    release(); // twice is harmless
    const releaseNext = await next;
    expect(slots.running).toBe(1);
    releaseNext();
    expect(slots.running).toBe(0);
  });

  test('rejects a slot count below 1', () => {
    expect(() => new SandboxSlots(0)).toThrow(/≥ 1/);
  });
});

describe('what the host accepts from the runner', () => {
  const runWith = async (lines: (nonce: string) => string[], exitCode = 0) => {
    const driver = new FakeDriver();
    const running = runInSandbox(driver, { files: trivialProject(), limits: limitsFor() });
    await driver.launched(1);
    driver.runs[0]!(lines, exitCode);
    return running;
  };

  test('one result line, then exit 0: the result', async () => {
    const run = await runWith((nonce) => [resultLine(nonce)]);
    expect(run.status).toBe('completed');
    expect(run.tests.passed).toBe(1);
  });

  test('a line without the nonce is ignored', async () => {
    const forged = { passed: 42, failed: 0, skipped: 0, failures: [] };
    const run = await runWith((nonce) => [resultLine('0'.repeat(32), forged), resultLine(nonce)]);
    expect(run.status).toBe('completed');
    expect(run.tests.passed).toBe(1);
  });

  test('two result lines: neither is trusted', async () => {
    const forged = { passed: 42, failed: 0, skipped: 0, failures: [] };
    const run = await runWith((nonce) => [resultLine(nonce, forged), resultLine(nonce)]);
    expect(run.status).toBe('error');
    expect(run.reason).toMatch(/2 result lines/);
    expect(run.tests.passed).toBe(0);
  });

  test('a result from a runner that then dies is not a result', async () => {
    const run = await runWith((nonce) => [resultLine(nonce)], 137);
    expect(run.status).toBe('error');
    expect(run.reason).toMatch(/exited 137 after its result/);
    expect(run.tests.passed).toBe(0);
  });
});

describe('sandbox capacity at worker start', () => {
  const machine = (cpus: number, memoryGiB: number): MachineCapacity => ({
    cpus,
    memoryBytes: memoryGiB * GiB,
    memorySource: "the machine's memory",
  });

  test('the default: one run per CPU, as many as half the memory holds, at least 1', () => {
    expect(defaultMaxConcurrent(1 * GiB, machine(2, 24))).toBe(2);
    expect(defaultMaxConcurrent(1 * GiB, machine(16, 8))).toBe(4);
    expect(defaultMaxConcurrent(4 * GiB, machine(4, 2))).toBe(1);
  });

  test('refuses a configuration that would overcommit memory, naming the variables', () => {
    expect(() => checkSandboxCapacity({ maxConcurrent: 8, limits: { memoryBytes: 4 * GiB } }, machine(8, 16))).toThrow(
      /SANDBOX_MAX_CONCURRENT=8 runs × SANDBOX_MEMORY_MB=4096 need 32768 MiB, but the machine's memory is 16384 MiB/,
    );
    // The default cannot go below one run, which can itself be too much.
    expect(() =>
      checkSandboxCapacity({ maxConcurrent: 'auto', limits: { memoryBytes: 32 * GiB } }, machine(8, 16)),
    ).toThrow(/SANDBOX_MAX_CONCURRENT=auto \(1\).*SANDBOX_MEMORY_MB=32768/);
  });

  test('accepts what fits, and returns the maximum', () => {
    expect(checkSandboxCapacity({ maxConcurrent: 4, limits: { memoryBytes: 4 * GiB } }, machine(8, 16))).toBe(4);
    expect(checkSandboxCapacity({ limits: { memoryBytes: 1 * GiB } }, machine(2, 24))).toBe(2);
  });

  test('this machine: its CPUs, and no more memory than it has', () => {
    const here = machineCapacity();
    expect(here.cpus).toBeGreaterThanOrEqual(1);
    expect(here.memoryBytes).toBeGreaterThan(0);
    expect(here.memoryBytes).toBeLessThanOrEqual(totalmem());
  });
});
