import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { SandboxRunResult, StepName, type LimitHit, type SandboxLimits } from '../../contracts/sandbox';
import type { SandboxDriver } from './driver';
import type { QueuedInfo, SandboxSlots } from './slots';
import { withSpan } from '../telemetry/tracing';

export interface SandboxFile {
  path: string;
  content: string | Buffer;
}

export interface SandboxRunRequest {
  files: SandboxFile[];
  limits: SandboxLimits;
  /** Aborting kills the sandbox at once (activity cancellation). */
  signal?: AbortSignal;
  /** Called as the runner enters each step (heartbeat details). */
  onStep?: (step: StepName) => void;
  /** The host type-checked these files and found no error: the sandbox transpiles without a second type-check. */
  typecheckedOnHost?: boolean;
  /** The worker's limit on runs at once (slots.ts); without it the run starts at once. */
  slots?: SandboxSlots;
  /** Called when the run has to wait for a slot (heartbeat details: the caller keeps heartbeating). */
  onQueued?: (info: QueuedInfo) => void;
}

/** The runner's result line: what it can know from inside the sandbox. */
const RunnerResult = SandboxRunResult.pick({
  steps: true,
  tests: true,
  limitHits: true,
  missingDependencies: true,
  resources: true,
});
type RunnerResult = z.infer<typeof RunnerResult>;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The runner ends itself this long after the host's deadline, in case the host is gone. */
const RUNNER_DEADLINE_GRACE_MS = 5_000;

/** Room for the runner's own lines on top of the capped step excerpts it reports. */
const RUNNER_OUTPUT_ALLOWANCE = 256 * 1024;

/**
 * Runs a project in a sandbox of `driver`: waits for a slot (when given `slots`), sends the project in,
 * follows the runner's steps, enforces the wall clock and the output cap from outside, and always removes
 * the sandbox, whatever happens. The wall clock starts once the run has its slot.
 */
export async function runInSandbox(driver: SandboxDriver, request: SandboxRunRequest): Promise<SandboxRunResult> {
  request.signal?.throwIfAborted();
  const release = await request.slots?.acquire({ signal: request.signal, onQueued: request.onQueued });
  try {
    return await withSpan('sandbox.run', () => runNow(driver, request), { 'sandbox.driver': driver.name });
  } finally {
    release?.();
  }
}

async function runNow(driver: SandboxDriver, request: SandboxRunRequest): Promise<SandboxRunResult> {
  const { limits, signal } = request;
  signal?.throwIfAborted();
  const nonce = randomBytes(16).toString('hex');
  const started = performance.now();
  const sandbox = await driver.launch(limits);
  const hits: LimitHit[] = [];
  let step: StepName | undefined;
  let firstLineAt: number | undefined;
  let reported: RunnerResult | undefined;
  let results = 0;
  let stderr = '';
  let outputBytes = 0;
  let stopped = false;
  let ended = false;
  const stop = (hit?: LimitHit) => {
    if (hit && !hits.some((h) => h.limit === hit.limit)) hits.push(hit);
    if (stopped) return;
    stopped = true;
    void sandbox.kill();
  };
  const cap = limits.outputBytes + RUNNER_OUTPUT_ALLOWANCE;
  const count = (chunk: Buffer) => {
    outputBytes += chunk.length;
    if (outputBytes > cap) stop({ limit: 'output', step, detail: `the sandbox wrote more than ${cap} bytes` });
  };

  let pending = '';
  sandbox.stdout.on('data', (chunk: Buffer) => {
    count(chunk);
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const match = /^QLP ([0-9a-f]{32}) (step|result) (.*)$/.exec(line);
      if (!match || match[1] !== nonce) continue;
      firstLineAt ??= performance.now();
      // What comes out of the sandbox is checked like any untrusted input: a bad line is ignored.
      const value = parseJson(match[3]!);
      if (match[2] === 'step') {
        const parsed = StepName.safeParse(value);
        if (parsed.success) request.onStep?.((step = parsed.data));
      } else {
        // The runner says it once; a second result line means someone else knows the nonce: trust neither.
        results++;
        const parsed = RunnerResult.safeParse(value);
        if (parsed.success && results === 1) reported = parsed.data;
      }
    }
  });
  sandbox.stderr.on('data', (chunk: Buffer) => {
    count(chunk);
    if (stderr.length < 4096) stderr += chunk.toString('utf8');
  });

  const timer = setTimeout(
    () => stop({ limit: 'timeout', step, detail: `the run took longer than ${limits.timeoutMs} ms` }),
    limits.timeoutMs,
  );
  const onAbort = () => stop();
  signal?.addEventListener('abort', onAbort);
  if (signal?.aborted) stop(); // aborted while the sandbox was starting: the listener came too late
  try {
    sandbox.stdin.end(
      JSON.stringify({
        nonce,
        // Where the sandbox makes the runner root, it starts the steps as this uid (docs/sandbox.md).
        stepUid: sandbox.stepUid,
        outputBytes: limits.outputBytes,
        deadlineMs: limits.timeoutMs + RUNNER_DEADLINE_GRACE_MS,
        typecheckedOnHost: request.typecheckedOnHost === true,
        files: request.files.map((f) => ({ path: f.path, contentBase64: Buffer.from(f.content).toString('base64') })),
      }),
    );
    sandbox.stdin.on('error', () => undefined); // a sandbox that dies early closes its stdin
    const exit = await sandbox.exited;
    ended = true;
    signal?.throwIfAborted();
    for (const hit of [...exit.hits, ...(reported?.limitHits ?? [])]) {
      if (!hits.some((h) => h.limit === hit.limit)) hits.push(hit);
    }
    const durationMs = Math.round(performance.now() - started);
    const startupMs = Math.round((firstLineAt ?? performance.now()) - started);
    const base = {
      driver: driver.name,
      durationMs,
      startupMs,
      limitHits: hits,
      resources: { ...definedOnly(reported?.resources), ...definedOnly(exit.resources) },
    };
    // A result counts only as the runner's last word: exactly one result line, and the runner then exited 0.
    if (reported && results === 1 && exit.exitCode === 0) {
      return { ...reported, ...base, status: hits.length ? 'limit' : 'completed' };
    }
    const empty = { steps: [], tests: { passed: 0, failed: 0, skipped: 0, failures: [] }, missingDependencies: [] };
    if (hits.length) {
      const reason = `stopped by the ${hits.map((h) => h.limit).join(' and ')} limit${step ? ` during ${step}` : ''}`;
      return { ...base, ...empty, status: 'limit', reason };
    }
    const why =
      results > 1
        ? `${results} result lines (the runner writes one): none is trusted`
        : reported
          ? `the runner exited ${exit.exitCode} after its result`
          : `the sandbox ended without a result (exit ${exit.exitCode})`;
    const reason = `${why}${stderr ? `: ${stderr.slice(0, 500)}` : ''}`;
    return { ...base, ...empty, status: 'error', reason };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    // Only a run left early (an error before it ended) still needs killing; cleanup then removes it.
    if (!stopped && !ended) await sandbox.kill().catch(() => undefined);
    await sandbox.cleanup();
  }
}

const definedOnly = <T extends object>(value: T | undefined): Partial<T> =>
  Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
