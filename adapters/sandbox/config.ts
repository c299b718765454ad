import { z } from 'zod';
import type { Section } from '../../config/setting';
import type { SandboxLimits } from '../../contracts/sandbox';

const MiB = 1024 * 1024;
const positive = z.coerce.number().int().positive();

/** Defaults per run; docs/sandbox.md gives the reasoning for each. */
export const DEFAULT_LIMITS: SandboxLimits = {
  timeoutMs: 120_000,
  memoryBytes: 1024 * MiB,
  pids: 256,
  cpus: 1,
  cpuSeconds: 120,
  workDirBytes: 256 * MiB,
  fileSizeBytes: 64 * MiB,
  openFiles: 1024,
  outputBytes: 1 * MiB,
};

const sandbox: Section = { title: 'Sandbox for layer 2 (docs/sandbox.md)' };

/** Sandbox settings from the environment, declared with their documentation; config/index.ts spreads this into its schema. */
export const sandboxEnvShape = {
  SANDBOX_DRIVER: z
    .enum(['auto', 'docker', 'bubblewrap', 'none'], { error: "must be 'auto', 'docker', 'bubblewrap' or 'none'" })
    .prefault('auto')
    .meta({
      section: sandbox,
      doc: 'auto: Docker when an engine answers, else bubblewrap; none: layer 2 is "not assessed" (code never runs unisolated).',
    }),
  SANDBOX_IMAGE: z.string().min(1).optional().meta({
    section: sandbox,
    doc: 'A standard image with the sandbox layout (deploy/sandbox.Dockerfile); empty: built locally, offline, on first use.',
  }),
  DOCKER_SOCKET: z.string().min(1).optional().meta({
    section: sandbox,
    doc: 'Docker engine socket (default /var/run/docker.sock) and bwrap executable (default: on PATH).',
  }),
  BWRAP_PATH: z.string().min(1).optional().meta({ section: sandbox }),
  SANDBOX_TIMEOUT_MS: positive.prefault(String(DEFAULT_LIMITS.timeoutMs)).meta({
    section: sandbox,
    doc: [
      'Limits of one run: wall clock, memory of the whole run, processes+threads, CPU share and CPU seconds,',
      'work dir and /tmp size, largest file, open files, output per step.',
    ],
  }),
  SANDBOX_MEMORY_MB: positive.prefault(String(DEFAULT_LIMITS.memoryBytes / MiB)).meta({ section: sandbox }),
  SANDBOX_PIDS: positive.prefault(String(DEFAULT_LIMITS.pids)).meta({ section: sandbox }),
  SANDBOX_CPUS: z.coerce.number().positive().prefault(String(DEFAULT_LIMITS.cpus)).meta({ section: sandbox }),
  SANDBOX_CPU_SECONDS: positive.prefault(String(DEFAULT_LIMITS.cpuSeconds)).meta({ section: sandbox }),
  SANDBOX_WORK_DIR_MB: positive.prefault(String(DEFAULT_LIMITS.workDirBytes / MiB)).meta({ section: sandbox }),
  SANDBOX_FILE_SIZE_MB: positive.prefault(String(DEFAULT_LIMITS.fileSizeBytes / MiB)).meta({ section: sandbox }),
  SANDBOX_OPEN_FILES: positive.prefault(String(DEFAULT_LIMITS.openFiles)).meta({ section: sandbox }),
  SANDBOX_OUTPUT_KB: positive.prefault(String(DEFAULT_LIMITS.outputBytes / 1024)).meta({ section: sandbox }),
  SANDBOX_MAX_CONCURRENT: z
    .union([z.literal('auto'), positive], { error: "must be 'auto' or a whole number ≥ 1" })
    .prefault('auto')
    .meta({
      section: sandbox,
      doc: [
        'Runs one worker has at once; more wait their turn (heartbeating). auto: one per CPU, as many as half',
        'the memory holds at SANDBOX_MEMORY_MB each. A worker refuses to start when runs × memory exceed the machine.',
      ],
    }),
};

type SandboxEnv = z.infer<z.ZodObject<typeof sandboxEnvShape>>;

export interface SandboxConfig {
  /** `auto`: Docker when an engine answers, else bubblewrap; `none`: layer 2 is skipped (never a pass). */
  driver: 'auto' | 'docker' | 'bubblewrap' | 'none';
  image?: string;
  dockerSocket?: string;
  bwrapPath?: string;
  limits: SandboxLimits;
  /** Runs at once per worker (SANDBOX_MAX_CONCURRENT); `auto` or unset: from CPUs and memory (slots.ts). */
  maxConcurrent?: number | 'auto';
}

export function toSandboxConfig(e: SandboxEnv): SandboxConfig {
  return {
    driver: e.SANDBOX_DRIVER,
    image: e.SANDBOX_IMAGE,
    dockerSocket: e.DOCKER_SOCKET,
    bwrapPath: e.BWRAP_PATH,
    limits: {
      timeoutMs: e.SANDBOX_TIMEOUT_MS,
      memoryBytes: e.SANDBOX_MEMORY_MB * MiB,
      pids: e.SANDBOX_PIDS,
      cpus: e.SANDBOX_CPUS,
      cpuSeconds: e.SANDBOX_CPU_SECONDS,
      workDirBytes: e.SANDBOX_WORK_DIR_MB * MiB,
      fileSizeBytes: e.SANDBOX_FILE_SIZE_MB * MiB,
      openFiles: e.SANDBOX_OPEN_FILES,
      outputBytes: e.SANDBOX_OUTPUT_KB * 1024,
    },
    maxConcurrent: e.SANDBOX_MAX_CONCURRENT,
  };
}
