import type { Readable, Writable } from 'node:stream';
import type { LimitHit, SandboxDriverName, SandboxLimits, SandboxRunResult } from '../../contracts/sandbox';
import { leaseState, WORKER } from './worker-lease';

/** What a driver knows about how the sandbox ended, beyond what the runner inside said. */
export interface SandboxExit {
  exitCode: number | null;
  /** Limits the driver saw hit itself (an OOM kill, its cgroup's pids counter). */
  hits: LimitHit[];
  resources?: SandboxRunResult['resources'];
}

/** One started sandbox with the runner inside, waiting for its request on stdin. */
export interface SandboxProcess {
  /** What identifies this run on the host: the container id (Docker), the cgroup or uid (bubblewrap). */
  readonly id: string;
  /** The unprivileged host uid the run's processes have, when the driver picks one (bubblewrap as root). */
  readonly hostUid?: number;
  /** The host uid of the project's steps when it differs from the runner's (bubblewrap as root). */
  readonly stepHostUid?: number;
  /**
   * The uid (inside) the runner must start the project's steps as, so they cannot reach it: set when the
   * runner starts as root of the sandbox (Docker; bubblewrap as root). Unset: runner and steps share a uid.
   */
  readonly stepUid?: number;
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  exited: Promise<SandboxExit>;
  /** Kills everything in the sandbox at once. */
  kill(): Promise<void>;
  /** Removes what the run created (container, cgroup); safe to call twice. */
  cleanup(): Promise<void>;
}

/** An isolation mechanism: Docker or bubblewrap. */
export interface SandboxDriver {
  readonly name: SandboxDriverName;
  /** Why this driver cannot run here, or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  launch(limits: SandboxLimits): Promise<SandboxProcess>;
  /** Removes leftovers of runs whose worker died (containers, cgroups); returns how many. */
  reap(filter?: ReapFilter): Promise<number>;
}

/** Narrows a reap to the leftovers of one (dead) worker process, e.g. in tests sharing a host. */
export interface ReapFilter {
  ownerPid?: number;
}

/**
 * What every sandbox carries, so leftovers can be attributed to the worker that made them: its random
 * worker id (whose lease says whether it lives), its host identity from the OS, and its pid (for people).
 */
export const OWNER = { host: WORKER.host, pid: process.pid, workerId: WORKER.workerId };

/**
 * Whether a sandbox's owner is provably dead, so its leftovers may go: by the owner's lease; a sandbox
 * made before worker ids (none recorded) by its pid in this namespace, as then. Unknown is alive.
 */
export async function ownerIsDead(owner: { workerId?: string; pid: number }): Promise<boolean> {
  if (owner.workerId) return (await leaseState(owner.workerId)) === 'dead';
  return owner.pid !== process.pid && !isAlive(owner.pid);
}

/** Whether a process of this host is alive (signal 0 probes without touching it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
