import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';

// How many sandbox runs one worker has at once (SANDBOX_MAX_CONCURRENT), and whether the machine can hold
// that many at their memory limit (SANDBOX_MEMORY_MB). docs/sandbox.md ("Runs at once").

const MiB = 1024 * 1024;
/** With the default, sandboxes may take this share of the memory; the rest is the worker's and the system's. */
const DEFAULT_MEMORY_SHARE = 0.5;

/** Where a waiting run is: reported to `onQueued` when it has to wait, so the activity can say so. */
export interface QueuedInfo {
  /** 1 = next to start. */
  position: number;
  running: number;
  max: number;
}

/**
 * A first-come, first-served semaphore over sandbox runs: at most `max` hold a slot; the others wait in
 * order. One per worker process.
 */
export class SandboxSlots {
  private held = 0;
  private readonly queue: Array<{ grant: () => void }> = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`a sandbox slot count must be a whole number ≥ 1 (${max})`);
  }

  get running(): number {
    return this.held;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /**
   * A slot, at once when one is free; else after the runs ahead have ended (`onQueued` is called once,
   * when the wait begins). Aborting `signal` leaves the queue and rejects. Returns the release function
   * (safe to call twice).
   */
  async acquire(options: { signal?: AbortSignal; onQueued?: (info: QueuedInfo) => void } = {}): Promise<() => void> {
    const { signal } = options;
    signal?.throwIfAborted();
    if (this.held < this.max && this.queue.length === 0) {
      this.held++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const at = this.queue.indexOf(waiter);
        if (at >= 0) this.queue.splice(at, 1);
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      options.onQueued?.({ position: this.queue.length, running: this.held, max: this.max });
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next)
        next.grant(); // the slot passes straight on: `held` stays
      else this.held--;
    };
  }
}

/** What this machine (or the cgroup this worker runs in) has for sandbox runs. */
export interface MachineCapacity {
  cpus: number;
  memoryBytes: number;
  /** Where memoryBytes comes from, for messages. */
  memorySource: string;
}

export function machineCapacity(): MachineCapacity {
  const total = totalmem();
  const limit = cgroupMemoryLimit();
  return limit !== undefined && limit < total
    ? { cpus: availableParallelism(), memoryBytes: limit, memorySource: "this worker's cgroup memory limit" }
    : { cpus: availableParallelism(), memoryBytes: total, memorySource: "the machine's memory" };
}

/** The default for SANDBOX_MAX_CONCURRENT: one run per CPU, as many as half the memory holds, at least 1. */
export function defaultMaxConcurrent(memoryBytesPerRun: number, machine = machineCapacity()): number {
  const byMemory = Math.floor((machine.memoryBytes * DEFAULT_MEMORY_SHARE) / memoryBytesPerRun);
  return Math.max(1, Math.min(machine.cpus, byMemory));
}

/** The sandbox settings the capacity depends on (SandboxConfig has them). */
export interface SandboxCapacitySettings {
  /** `auto` or unset: defaultMaxConcurrent. */
  maxConcurrent?: number | 'auto';
  limits: { memoryBytes: number };
}

/** SANDBOX_MAX_CONCURRENT as a number: the setting, or the default for this machine. */
export function resolveMaxConcurrent(settings: SandboxCapacitySettings, machine = machineCapacity()): number {
  const setting = settings.maxConcurrent ?? 'auto';
  return setting === 'auto' ? defaultMaxConcurrent(settings.limits.memoryBytes, machine) : setting;
}

/**
 * For a worker's start: throws, naming the variables, when its sandbox runs at once could together use
 * more memory than the machine has (each run may use up to SANDBOX_MEMORY_MB); returns the resolved
 * maximum otherwise.
 */
export function checkSandboxCapacity(settings: SandboxCapacitySettings, machine = machineCapacity()): number {
  const max = resolveMaxConcurrent(settings, machine);
  const perRunMiB = Math.round(settings.limits.memoryBytes / MiB);
  const needMiB = max * perRunMiB;
  const haveMiB = Math.floor(machine.memoryBytes / MiB);
  if (needMiB > haveMiB) {
    const setting = typeof settings.maxConcurrent === 'number' ? String(max) : `auto (${max})`;
    throw new Error(
      `sandbox runs would overcommit memory: SANDBOX_MAX_CONCURRENT=${setting} runs × SANDBOX_MEMORY_MB=${perRunMiB} ` +
        `need ${needMiB} MiB, but ${machine.memorySource} is ${haveMiB} MiB; lower SANDBOX_MAX_CONCURRENT or ` +
        `SANDBOX_MEMORY_MB (docs/sandbox.md)`,
    );
  }
  return max;
}

/** The worker's slots for its configured (or default) maximum. */
export function sandboxSlotsFor(settings: SandboxCapacitySettings, machine = machineCapacity()): SandboxSlots {
  return new SandboxSlots(resolveMaxConcurrent(settings, machine));
}

/** The tightest memory limit of this process's cgroup and its ancestors (v1 or v2), if any is set. */
function cgroupMemoryLimit(): number | undefined {
  let membership: string;
  try {
    membership = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return undefined;
  }
  const limits: number[] = [];
  for (const line of membership.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (path === undefined) continue;
    const v1 = controllers!.split(',').includes('memory');
    const v2 = controllers === '';
    if (!v1 && !v2) continue;
    const root = v1 ? '/sys/fs/cgroup/memory' : '/sys/fs/cgroup';
    const file = v1 ? 'memory.limit_in_bytes' : 'memory.max';
    // Ancestors' limits apply too; a path that is not visible here (another cgroup namespace) is skipped.
    for (let dir = path; ; dir = dir.slice(0, dir.lastIndexOf('/')) || '/') {
      const limit = readLimit(join(root, dir, file));
      if (limit !== undefined) limits.push(limit);
      if (dir === '/' || dir === '') break;
    }
  }
  return limits.length ? Math.min(...limits) : undefined;
}

function readLimit(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const text = readFileSync(file, 'utf8').trim();
    const value = Number(text);
    // "max" (v2) or a page-rounded near-2^63 (v1) mean no limit.
    return text !== 'max' && Number.isFinite(value) && value > 0 && value < 2 ** 60 ? value : undefined;
  } catch {
    return undefined;
  }
}
