import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { Client } from 'pg';
import { BubblewrapSandbox } from '../../adapters/sandbox/bubblewrap';
import { DockerSandbox } from '../../adapters/sandbox/docker';
import type { SandboxDriver, SandboxProcess } from '../../adapters/sandbox/driver';
import { curatedPackageDir } from '../../adapters/sandbox/layout';
import { runInSandbox, type SandboxFile } from '../../adapters/sandbox/session';
import type { LimitKind, SandboxLimits, SandboxRunResult } from '../../contracts/sandbox';
import { eventually } from '../support/stack';
import {
  cleanTypeScriptProject,
  infiniteLoopProject,
  jsProject,
  limitsFor,
  resultForgeryProject,
  trivialProject,
} from './projects';

// The sandbox abuse suite, run against one real driver per test file (docker.test.ts, bubblewrap.test.ts),
// so the two drivers run in parallel jest workers. A driver that is unavailable fails the suite.

const MiB = 1024 * 1024;
const CGROUP_ROOT = '/sys/fs/cgroup';
const SANDBOX_UIDS = [200_000, 265_000] as const;
const REPO = join(__dirname, '..', '..');

type DriverName = 'docker' | 'bubblewrap';

interface HostProcess {
  pid: number;
  ppid: number;
  uid: number;
  state: string;
  /** The program's name (kept for a zombie, whose cmdline is empty). */
  name: string;
  cmdline: string;
  cgroup: string;
}

/** Every process of this host, with what attributes it to a sandbox run. */
async function hostProcesses(): Promise<HostProcess[]> {
  const found: HostProcess[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replace(/\0/g, ' ').trim();
      const cgroup = await readFile(`/proc/${entry}/cgroup`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
      const state = /^State:\s+(\S)/m.exec(status)?.[1] ?? '?';
      const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?';
      found.push({ pid: Number(entry), ppid, uid, state, name, cmdline, cgroup });
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** A limit case: the run was stopped by `limit`, and no later than shortly after its wall clock. */
function expectStoppedBy(result: SandboxRunResult, limit: LimitKind, limits: SandboxLimits) {
  expect(result.status).toBe('limit');
  expect(result.limitHits.map((h) => h.limit)).toContain(limit);
  expect(result.durationMs).toBeLessThan(limits.timeoutMs + 5_000);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The host's first non-loopback IPv4 address. */
function hostAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const address = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (address) return address.address;
  }
  throw new Error('this host has no non-loopback IPv4 address');
}

/** Records what every launch created, so leftovers can be attributed to this file's runs only. */
class TrackedDriver implements SandboxDriver {
  readonly name: DriverName;
  readonly ids = new Set<string>();
  readonly hostUids = new Set<number>();
  readonly tokens = new Set<string>();
  /** The host uids of the latest launch (bubblewrap as root: its runner's and its steps'). */
  lastHostUids: number[] = [];

  constructor(readonly inner: DockerSandbox | BubblewrapSandbox) {
    this.name = inner.name;
  }

  unavailable(): Promise<string | undefined> {
    return this.inner.unavailable();
  }

  async launch(limits: SandboxLimits): Promise<SandboxProcess> {
    const launched = await this.inner.launch(limits);
    this.remember(launched);
    return launched;
  }

  remember(launched: Pick<SandboxProcess, 'id' | 'hostUid' | 'stepHostUid'>): void {
    this.ids.add(launched.id);
    this.lastHostUids = [launched.hostUid, launched.stepHostUid].filter((u): u is number => u !== undefined);
    for (const uid of this.lastHostUids) this.hostUids.add(uid);
  }

  reap(filter?: { ownerPid?: number }): Promise<number> {
    return this.inner.reap(filter);
  }

  /** Live processes of this file's runs: by their run uid, their container or cgroup, or a case's token. */
  async leftoverProcesses(): Promise<HostProcess[]> {
    return (await hostProcesses()).filter((p) => {
      if (p.state === 'Z') return false; // already dead, waiting for its parent to collect it
      if (this.hostUids.has(p.uid)) return true;
      if ([...this.tokens].some((t) => p.cmdline.includes(t))) return true;
      const sandboxLike =
        (p.uid >= SANDBOX_UIDS[0] && p.uid <= SANDBOX_UIDS[1]) || p.cmdline.includes('/opt/qlp/runner.cjs');
      return sandboxLike && [...this.ids].some((id) => p.cgroup.includes(id));
    });
  }

  /** Containers (Docker) or cgroup dirs (bubblewrap) this worker process still has. */
  async leftoverSandboxes(ownerPid = process.pid): Promise<string[]> {
    if (this.inner instanceof DockerSandbox) {
      const count = await this.inner.count({ ownerPid });
      return count ? [`${count} container(s) labelled with owner pid ${ownerPid}`] : [];
    }
    return cgroupDirs(ownerPid);
  }
}

async function cgroupDirs(ownerPid: number): Promise<string[]> {
  const dirs: string[] = [];
  for (const controller of ['memory', 'pids']) {
    const parent = join(CGROUP_ROOT, controller, 'qlp-sandbox');
    for (const name of await readdir(parent).catch(() => [] as string[])) {
      if (name.startsWith(`${ownerPid}-`)) dirs.push(join(parent, name));
    }
  }
  return dirs;
}

async function expectHostHealthy(): Promise<void> {
  const client = new Client({
    connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres',
    connectionTimeoutMillis: 5_000,
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ one: number }>('select 1 as one');
    expect(rows[0]?.one).toBe(1);
  } finally {
    await client.end();
  }
  const before = performance.now();
  await sleep(50);
  expect(performance.now() - before).toBeLessThan(5_000);
}

const hitLimits = (result: SandboxRunResult): LimitKind[] => result.limitHits.map((h) => h.limit);
const stepStatus = (result: SandboxRunResult, step: string) => result.steps.find((s) => s.step === step)?.status;
const testExcerpt = (result: SandboxRunResult) => result.steps.find((s) => s.step === 'test')?.outputExcerpt ?? '';

/** The whole abuse suite against one driver. */
export function abuseSuite(driverName: DriverName): void {
  const driver = new TrackedDriver(driverName === 'docker' ? new DockerSandbox() : new BubblewrapSandbox());
  const run = (files: SandboxFile[], limits: SandboxLimits, extra: { signal?: AbortSignal } = {}) =>
    runInSandbox(driver, { files, limits, ...extra });

  describe(`sandbox abuse: ${driverName}`, () => {
    beforeAll(async () => {
      // Never skipped: CI has both drivers, so an unavailable one is a failure with its reason.
      expect(await driver.unavailable()).toBeUndefined();
      expect(await driver.leftoverSandboxes()).toEqual([]);
      // Warm-up (Docker builds its local image on first use).
      const warm = await run(trivialProject(), limitsFor({ timeoutMs: 120_000 }));
      expect(warm.status).toBe('completed');
    }, 180_000);

    afterEach(async () => {
      expect(await driver.leftoverSandboxes()).toEqual([]);
      expect(await driver.leftoverProcesses()).toEqual([]);
      await expectHostHealthy();
    }, 30_000);

    test('1. a clean TypeScript project passes every step', async () => {
      const result = await run(cleanTypeScriptProject(), limitsFor({ timeoutMs: 60_000 }));
      expect(result.reason).toBeUndefined();
      expect(result.status).toBe('completed');
      expect(result.steps.map((s) => [s.step, s.status])).toEqual([
        ['install', 'passed'],
        ['typecheck', 'passed'],
        ['build', 'passed'],
        ['test', 'passed'],
      ]);
      expect(result.tests.passed).toBeGreaterThanOrEqual(2);
      expect(result.tests.failed).toBe(0);
      expect(result.limitHits).toEqual([]);
    }, 90_000);

    test('1b. what the host type-checked is only transpiled; a tsconfig that checks more is type-checked here', async () => {
      const limits = limitsFor({ timeoutMs: 60_000 });
      const transpiled = await runInSandbox(driver, {
        files: cleanTypeScriptProject(),
        limits,
        typecheckedOnHost: true,
      });
      expect(transpiled.steps.map((s) => [s.step, s.status])).toEqual([
        ['install', 'passed'],
        ['typecheck', 'skipped'],
        ['build', 'passed'],
        ['test', 'passed'],
      ]);
      expect(transpiled.steps[1]!.reason).toMatch(/type-checked on the host/);
      expect(transpiled.tests).toMatchObject({ passed: 2, failed: 0 });

      // noUnusedParameters is beyond the host's check: the project's own compiler run finds the unused one.
      const stricter = cleanTypeScriptProject().map((file) =>
        file.path === 'tsconfig.json'
          ? {
              ...file,
              content: String(file.content).replace('"strict":true', '"strict":true,"noUnusedParameters":true'),
            }
          : file.path === 'src/slug.ts'
            ? {
                ...file,
                content: `${String(file.content)}export function unused(x: number): number {\n  return 1;\n}\n`,
              }
            : file,
      );
      const checked = await runInSandbox(driver, { files: stricter, limits, typecheckedOnHost: true });
      expect(stepStatus(checked, 'typecheck')).toBe('failed');
      expect(checked.steps.find((s) => s.step === 'typecheck')!.outputExcerpt).toMatch(/TS6133/);
    }, 120_000);

    test('2. a failing test is reported as failed, the passing one counted', async () => {
      const result = await run(
        jsProject(
          "test('adds numbers', () => assert.strictEqual(1 + 2, 3));\n" +
            "test('multiplies wrongly', () => assert.strictEqual(2 * 3, 7));\n",
        ),
        limitsFor(),
      );
      expect(result.status).toBe('completed');
      expect(stepStatus(result, 'test')).toBe('failed');
      expect(result.tests.passed).toBe(1);
      expect(result.tests.failed).toBe(1);
      expect(result.tests.failures.map((f) => f.name)).toEqual(['multiplies wrongly']);
    }, 30_000);

    test('3. a dependency outside the curated set fails install fast', async () => {
      const result = await run(
        jsProject("test('pads', () => assert.strictEqual(require('left-pad')('1', 3, '0'), '001'));\n", {
          dependencies: { 'left-pad': '^1.3.0' },
        }),
        limitsFor(),
      );
      expect(result.status).toBe('completed');
      expect(result.missingDependencies).toEqual(['left-pad']);
      expect(result.steps.map((s) => [s.step, s.status])).toEqual([
        ['install', 'failed'],
        ['typecheck', 'skipped'],
        ['build', 'skipped'],
        ['test', 'skipped'],
      ]);
      // Refused at install, not left to run into its time limit.
      expect(hitLimits(result)).not.toContain('timeout');
      expect(result.durationMs).toBeLessThan(limitsFor().timeoutMs);
    }, 60_000);

    test('4. no network: loopback PostgreSQL, the host and the internet are unreachable', async () => {
      const host = hostAddress();
      const targets = [
        ['127.0.0.1', 5432],
        [host, 5432],
        ['1.1.1.1', 443],
      ];
      const result = await run(
        jsProject(
          "const net = require('node:net');\n" +
            `const targets = ${JSON.stringify(targets)};\n` +
            'const probe = ([host, port]) => new Promise((resolve) => {\n' +
            '  const socket = net.connect({ host, port });\n' +
            '  const timer = setTimeout(() => { socket.destroy(); resolve(`${host}:${port} timeout`); }, 2000);\n' +
            "  socket.on('connect', () => { clearTimeout(timer); socket.destroy(); resolve(`${host}:${port} CONNECTED`); });\n" +
            "  socket.on('error', (e) => { clearTimeout(timer); resolve(`${host}:${port} ${e.code}`); });\n" +
            '});\n' +
            "test('reaches the network', async () => {\n" +
            '  const results = await Promise.all(targets.map(probe));\n' +
            "  assert.strictEqual(results.filter((r) => r.endsWith('CONNECTED')).length, targets.length, 'NET ' + results.join('; '));\n" +
            '});\n',
        ),
        limitsFor(),
      );
      expect(result.status).toBe('completed');
      expect(result.tests.failed).toBe(1);
      const excerpt = testExcerpt(result);
      expect(excerpt).not.toContain('CONNECTED');
      for (const [address, port] of targets) {
        expect(excerpt).toMatch(
          new RegExp(
            `${String(address).replace(/\./g, '\\.')}:${port} (ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|timeout)`,
          ),
        );
      }
    }, 30_000);

    test("5. host secrets: the worker's environment and /etc/shadow stay out", async () => {
      const canary = `canary-${randomBytes(12).toString('hex')}`;
      process.env.QLP_CANARY_SECRET = canary;
      const secrets = [canary, process.env.S3_SECRET_KEY, process.env.DATABASE_URL].filter(
        (s): s is string => typeof s === 'string' && s.length > 0,
      );
      expect(secrets.length).toBeGreaterThanOrEqual(2); // the test stack sets S3_SECRET_KEY and DATABASE_URL
      try {
        const result = await run(
          jsProject(
            "const fs = require('node:fs');\n" +
              "test('reads what it can', () => {\n" +
              "  for (const file of ['/etc/shadow', '/proc/1/environ', '/proc/self/environ', `/proc/${process.ppid}/environ`]) {\n" +
              "    try { console.log('READ', file, JSON.stringify(fs.readFileSync(file, 'utf8'))); }\n" +
              "    catch (e) { console.log('READ', file, 'failed', e.code); }\n" +
              '  }\n' +
              "  console.log('ENV', JSON.stringify(process.env));\n" +
              '});\n',
          ),
          limitsFor(),
        );
        expect(result.status).toBe('completed');
        expect(result.tests.passed).toBe(1);
        const json = JSON.stringify(result);
        expect(json).toContain('ENV'); // the output was captured, so its absence below means something
        expect(json).toMatch(/READ \/etc\/shadow failed (ENOENT|EACCES)/);
        for (const secret of secrets) expect(json).not.toContain(secret);
        const shadow = await readFile('/etc/shadow', 'utf8').catch(() => '');
        for (const line of shadow.split('\n').filter((l) => l.includes(':$') || l.startsWith('root:'))) {
          expect(json).not.toContain(line);
        }
        expect(json).not.toMatch(/root:[^:]*:\d+:\d*:\d*:/); // no shadow entry of any form
      } finally {
        delete process.env.QLP_CANARY_SECRET;
      }
    }, 30_000);

    test('6. writes outside the work dir fail and reach nothing on the host', async () => {
      const token = randomBytes(6).toString('hex');
      const inRepo = join(__dirname, `qlp-escape-${token}`);
      const targets = [
        '/etc/qlp-escape',
        '/usr/qlp-escape',
        '/opt/qlp/deps/node_modules/typescript/escape.js',
        inRepo,
        '/qlp-escape',
      ];
      const hostPaths = [...targets, join(curatedPackageDir('typescript'), 'escape.js')];
      const before = hostPaths.filter((p) => existsSync(p));
      const result = await run(
        jsProject(
          "const fs = require('node:fs');\n" +
            `const targets = ${JSON.stringify(targets)};\n` +
            "test('escapes the work dir', () => {\n" +
            '  const results = targets.map((file) => {\n' +
            "    try { fs.writeFileSync(file, 'escaped'); return `${file} WROTE`; } catch (e) { return `${file} ${e.code}`; }\n" +
            '  });\n' +
            "  assert.strictEqual(results.filter((r) => r.endsWith('WROTE')).length, targets.length, 'WRITE ' + results.join('; '));\n" +
            '});\n',
        ),
        limitsFor(),
      );
      expect(before).toEqual([]);
      expect(hostPaths.filter((p) => existsSync(p))).toEqual([]);
      expect(result.status).toBe('completed');
      expect(result.tests.failed).toBe(1);
      const excerpt = testExcerpt(result);
      expect(excerpt).not.toContain('WROTE');
      for (const target of targets) expect(excerpt).toMatch(new RegExp(`${target} (EROFS|EACCES|ENOENT|EPERM)`));
    }, 30_000);

    test('7. a fork bomb hits the pids limit and the host stays healthy', async () => {
      const limits = limitsFor({ pids: 64, timeoutMs: 20_000 });
      const result = await run(
        jsProject(
          "const { spawn } = require('node:child_process');\n" +
            "test('forks forever', () => new Promise((resolve, reject) => {\n" +
            '  let spawned = 0;\n' +
            '  const fork = () => {\n' +
            "    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });\n" +
            "    child.on('error', (error) => { console.log('fork failed after', spawned, error.code); reject(error); });\n" +
            "    child.on('spawn', () => { spawned++; fork(); });\n" +
            '  };\n' +
            '  for (let i = 0; i < 4; i++) fork();\n' +
            '}));\n',
        ),
        limits,
      );
      expectStoppedBy(result, 'pids', limits);
    }, 60_000);

    test('8. a memory bomb hits the memory limit', async () => {
      const limits = limitsFor({ memoryBytes: 256 * MiB, timeoutMs: 20_000 });
      const result = await run(
        jsProject(
          "test('allocates forever', () => {\n" +
            '  const kept = [];\n' +
            '  for (;;) kept.push(Buffer.alloc(16 * 1024 * 1024, 1));\n' +
            '});\n',
        ),
        limits,
      );
      expectStoppedBy(result, 'memory', limits);
    }, 60_000);

    test('9. an infinite loop hits the timeout, and the run ends at it', async () => {
      const limits = limitsFor({ timeoutMs: 8_000 });
      const result = await run(infiniteLoopProject(), limits);
      expect(result.status).toBe('limit');
      expect(hitLimits(result)).toEqual(['timeout']);
      expect(result.durationMs).toBeGreaterThanOrEqual(limits.timeoutMs);
      expect(result.durationMs).toBeLessThan(limits.timeoutMs + 5_000);
    }, 60_000);

    test('10. filling the disk hits the disk limit', async () => {
      const limits = limitsFor({ workDirBytes: 64 * MiB, fileSizeBytes: 32 * MiB });
      const result = await run(
        jsProject(
          "const fs = require('node:fs');\n" +
            "test('fills /work', () => {\n" +
            '  const chunk = Buffer.alloc(4 * 1024 * 1024, 7);\n' +
            '  for (let i = 0; ; i++) {\n' +
            '    const fd = fs.openSync(`/work/fill-${i}`, "w");\n' +
            '    for (let j = 0; j < 4; j++) fs.writeSync(fd, chunk);\n' +
            '    fs.closeSync(fd);\n' +
            '  }\n' +
            '});\n',
        ),
        limits,
      );
      expectStoppedBy(result, 'disk', limits);
    }, 60_000);

    test('11. an output flood hits the output limit', async () => {
      const limits = limitsFor({ outputBytes: 256 * 1024 });
      const result = await run(
        jsProject("test('floods', () => {\n  for (;;) console.log('flood '.repeat(20));\n});\n"),
        limits,
      );
      expect(result.status).toBe('limit');
      expect(hitLimits(result)).toContain('output');
      expect(result.durationMs).toBeLessThan(limits.timeoutMs);
    }, 60_000);

    test('12. a background process does not outlive the run', async () => {
      const token = `qlp-daemon-${randomBytes(8).toString('hex')}`;
      driver.tokens.add(token);
      const result = await run(
        jsProject(
          "const { spawn } = require('node:child_process');\n" +
            "test('leaves a daemon behind', () => {\n" +
            `  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', ${JSON.stringify(token)}], { detached: true, stdio: 'ignore' });\n` +
            '  child.unref();\n' +
            "  console.log('daemon', child.pid);\n" +
            '});\n',
        ),
        limitsFor(),
      );
      expect(result.status).toBe('completed');
      expect(result.tests.passed).toBe(1);
      const survivors = (await hostProcesses()).filter((p) => p.cmdline.includes(token) && p.state !== 'Z');
      expect(survivors).toEqual([]);
      expect(await driver.leftoverSandboxes()).toEqual([]);
      if (driver.inner instanceof BubblewrapSandbox) {
        const lastId = [...driver.ids].at(-1)!;
        for (const controller of ['memory', 'pids']) {
          expect(existsSync(join(CGROUP_ROOT, controller, 'qlp-sandbox', lastId))).toBe(false);
        }
      }
    }, 30_000);

    test('13. cancellation kills the run promptly', async () => {
      const controller = new AbortController();
      const started = performance.now();
      let abortedAt = 0;
      setTimeout(() => {
        abortedAt = performance.now();
        controller.abort();
      }, 1_000);
      await expect(
        run(infiniteLoopProject(), limitsFor({ timeoutMs: 60_000 }), { signal: controller.signal }),
      ).rejects.toThrow();
      const ended = performance.now();
      expect(abortedAt).toBeGreaterThan(started);
      expect(ended - abortedAt).toBeLessThan(10_000); // promptly: the run's own limit is 60 s

      // Aborted while the sandbox is still being created: the run must not go on to its timeout.
      const early = new AbortController();
      const launching = run(infiniteLoopProject(), limitsFor({ timeoutMs: 60_000 }), { signal: early.signal });
      setTimeout(() => early.abort(), 5);
      const earlyStart = performance.now();
      await expect(launching).rejects.toThrow();
      expect(performance.now() - earlyStart).toBeLessThan(10_000);
    }, 60_000);

    test('14. a crashed worker leaves nothing the reaper cannot remove', async () => {
      // Docker: a short wall clock, so the runner's own deadline (timeout + 5 s) ends the orphaned run.
      const timeoutMs = driverName === 'docker' ? 3_000 : 120_000;
      const script = join(__dirname, 'crash-worker.ts');
      const child = spawn(process.execPath, ['--import', 'tsx', script, driverName, String(timeoutMs)], {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      type Started = { id: string; hostUid?: number; stepHostUid?: number; pid: number };
      const info = await new Promise<Started>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`crash worker never started: ${out} ${stderr}`)), 45_000);
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          const match = /^started (.*)$/m.exec(out);
          if (match) {
            clearTimeout(timer);
            resolve(JSON.parse(match[1]!) as Started);
          }
        });
        child.on('exit', () => reject(new Error(`crash worker exited early: ${out} ${stderr}`)));
      });
      driver.remember(info);
      expect(info.pid).toBe(child.pid);
      child.kill('SIGKILL');
      await exited;

      if (driverName === 'docker') {
        expect(await driver.leftoverSandboxes(info.pid)).toHaveLength(1); // a container outlives its worker…
        // …but what ran in it stops by itself at the runner's deadline, with no worker left to kill it…
        const container = new Docker().getContainer(info.id);
        let running = (await container.inspect()).State.Running;
        for (let i = 0; i < 150 && running; i++) {
          await sleep(100);
          running = (await container.inspect()).State.Running;
        }
        expect(running).toBe(false);
        expect(await driver.reap({ ownerPid: info.pid })).toBeGreaterThanOrEqual(1); // …and the reaper removes it
        expect(await driver.leftoverSandboxes(info.pid)).toEqual([]);
      } else {
        // die-with-parent: the sandbox's processes die with the worker; only the empty cgroups are left.
        let alive = await driver.leftoverProcesses();
        for (let i = 0; i < 50 && alive.length; i++) {
          await sleep(100);
          alive = await driver.leftoverProcesses();
        }
        expect(alive).toEqual([]);
        expect(await cgroupDirs(info.pid)).toHaveLength(2);
        expect(await driver.reap({ ownerPid: info.pid })).toBe(1);
        expect(await cgroupDirs(info.pid)).toEqual([]);
      }
    }, 90_000);

    test('16. nothing of a finished run is left on the host, not even an unreaped process', async () => {
      // Right when the run has ended (bwrap's exit is what ended it), nothing of the run's uids is left.
      // A zombie child of ours is gone once Node has collected it (on a loaded machine that is not always
      // at the same instant); one that stays is an orphan nobody collects, which is what must never pile up.
      const leftAfter = async (result: Promise<SandboxRunResult>) => {
        await result;
        const ofTheRun = (await hostProcesses()).filter((p) => driver.lastHostUids.includes(p.uid));
        const zombies = async () => (await hostProcesses()).filter((p) => p.ppid === process.pid && p.state === 'Z');
        const lasting = await eventually(
          async () => ((await zombies()).length === 0 ? [] : undefined),
          'our zombie children to be collected',
        ).catch(zombies);
        return [...ofTheRun, ...lasting];
      };
      expect(await leftAfter(run(trivialProject(), limitsFor()))).toEqual([]);
      if (driverName === 'bubblewrap' && process.getuid?.() === 0) expect(driver.lastHostUids).toHaveLength(2);
      // A run the host kills (here at its wall clock) too.
      expect(await leftAfter(run(infiniteLoopProject(), limitsFor({ timeoutMs: 3_000 })))).toEqual([]);
    }, 300_000);

    test("17. the project cannot forge the runner's result (nonce from its memory, its stdout, killing it)", async () => {
      const result = await run(resultForgeryProject(), limitsFor());
      // What the host reports is the real run: one test passed (the attack), the real one failed.
      expect(result.tests).toMatchObject({ passed: 1, failed: 1 });
      expect(result.tests.failures.map((f) => f.name)).toEqual(['the real test fails']);
      expect(result.status).toBe('completed');
      expect(stepStatus(result, 'test')).toBe('failed');
      const excerpt = testExcerpt(result);
      expect(excerpt).toContain('ATTACK runners'); // the attack ran…
      const runners = JSON.parse(/ATTACK runners (\[[^\]]*\])/.exec(excerpt)?.[1] ?? '[]') as number[];
      expect(runners.length).toBeGreaterThanOrEqual(1); // …and found the runner: it can see it, not touch it
      for (const pid of runners) {
        expect(excerpt).toMatch(new RegExp(`ATTACK mem ${pid} (EACCES|EPERM)`));
        expect(excerpt).toMatch(new RegExp(`ATTACK fd ${pid}/1 (EACCES|EPERM)`));
        expect(excerpt).toMatch(new RegExp(`ATTACK kill ${pid} EPERM`));
      }
      expect(excerpt).not.toContain('NONCE-FOUND');
      expect(excerpt).not.toContain('KILLED');
    }, 60_000);

    test('15. start-up overhead of a trivial project', async () => {
      const startups: number[] = [];
      const durations: number[] = [];
      for (let i = 0; i < 10; i++) {
        const result = await run(trivialProject(), limitsFor());
        expect(result.status).toBe('completed');
        expect(result.tests.passed).toBe(1);
        startups.push(result.startupMs);
        durations.push(result.durationMs);
      }
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
      console.log(
        `${driverName} sandbox start-up over ${startups.length} runs: median startupMs ${median(startups)}, ` +
          `median durationMs ${median(durations)}`,
      );
      // Sanity bounds that hold on a loaded machine; the figures themselves are bench/sandbox-startup.ts's.
      expect(median(startups)).toBeLessThan(15_000);
      expect(median(durations)).toBeLessThan(30_000);
    }, 120_000);
  });
}
