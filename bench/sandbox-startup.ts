import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BubblewrapSandbox } from '../adapters/sandbox/bubblewrap';
import { DockerSandbox } from '../adapters/sandbox/docker';
import type { SandboxDriver } from '../adapters/sandbox/driver';
import { RUNNER_PATH } from '../adapters/sandbox/layout';
import { runInSandbox } from '../adapters/sandbox/session';
import { limitsFor, trivialProject } from '../test/sandbox/projects';

/**
 * Start-up overhead of the sandbox drivers: a trivial project (one tiny JavaScript test) run N times per
 * driver, after one warm-up run (Docker builds its local image on first use). Prints the medians of
 * startupMs (asking for the sandbox → the runner's first line) and durationMs (the whole run, cleanup not
 * included) and saves bench/results/sandbox-startup-<driver>.json. The same runner started as a plain child
 * process, with no isolation at all (our own one-line fixture, never generated code), is the baseline the
 * ratios are taken against.
 *
 *   npx tsx bench/sandbox-startup.ts [runs=10] [docker|bubblewrap ...]
 */

const runs = Number(process.argv[2] ?? 10);
const wanted = process.argv.slice(3);
const drivers: SandboxDriver[] = [new DockerSandbox(), new BubblewrapSandbox()].filter(
  (d) => wanted.length === 0 || wanted.includes(d.name),
);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
};

/** No isolation: the runner as a plain child process. A baseline for this bench only, never a driver. */
const unisolated = {
  name: 'unisolated',
  unavailable: async () => undefined,
  reap: async () => 0,
  launch: async () => {
    const work = mkdtempSync(join(tmpdir(), 'qlp-bench-unisolated-'));
    const child = spawn(process.execPath, [RUNNER_PATH], {
      env: { PATH: process.env.PATH, QLP_WORK_DIR: work, QLP_DEPS_DIR: join(__dirname, '..') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = new Promise<{ exitCode: number | null; hits: [] }>((resolve) =>
      child.on('close', (exitCode) => resolve({ exitCode, hits: [] })),
    );
    return {
      id: `pid-${child.pid}`,
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      exited,
      kill: async () => void child.kill('SIGKILL'),
      cleanup: async () => rmSync(work, { recursive: true, force: true }),
    };
  },
} as unknown as SandboxDriver;

let baseline: { startupMs: number; durationMs: number } | undefined;

async function bench(driver: SandboxDriver): Promise<void> {
  const reason = await driver.unavailable();
  if (reason) throw new Error(`${driver.name} is unavailable: ${reason}`);
  const limits = limitsFor({ timeoutMs: 120_000 });
  await runInSandbox(driver, { files: trivialProject(), limits });
  const startupMs: number[] = [];
  const durationMs: number[] = [];
  const wallMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = await runInSandbox(driver, { files: trivialProject(), limits });
    wallMs.push(Math.round(performance.now() - started));
    if (result.status !== 'completed' || result.tests.passed !== 1) {
      throw new Error(`${driver.name} run ${i + 1} did not pass: ${result.status} ${result.reason ?? ''}`);
    }
    startupMs.push(result.startupMs);
    durationMs.push(result.durationMs);
  }
  const summary = {
    driver: driver.name,
    date: new Date().toISOString(),
    node: process.version,
    runs,
    medianStartupMs: median(startupMs),
    medianDurationMs: median(durationMs),
    medianWithCleanupMs: median(wallMs),
    startupMs,
    durationMs,
    withCleanupMs: wallMs,
    ...(baseline && {
      unisolated: baseline,
      ratioStartup: Number((median(startupMs) / baseline.startupMs).toFixed(2)),
      ratioDuration: Number((median(durationMs) / baseline.durationMs).toFixed(2)),
    }),
  };
  if (driver === unisolated) {
    baseline = { startupMs: summary.medianStartupMs, durationMs: summary.medianDurationMs };
  }
  const ratios = summary.ratioStartup
    ? `  (× ${summary.ratioStartup} start-up, × ${summary.ratioDuration} duration of the unisolated runner)`
    : '';
  console.log(
    `${driver.name.padEnd(10)} runs ${runs}  median startupMs ${summary.medianStartupMs}  ` +
      `median durationMs ${summary.medianDurationMs}  median with cleanup ${summary.medianWithCleanupMs} ms${ratios}`,
  );
  if (driver === unisolated) return;
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(
    join(__dirname, 'results', `sandbox-startup-${driver.name}.json`),
    `${JSON.stringify(summary, null, 2)}\n`,
  );
}

async function main(): Promise<void> {
  await bench(unisolated);
  for (const driver of drivers) await bench(driver);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
