import { z } from 'zod';
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

/** Sandbox settings from the environment; config/index.ts spreads this into its schema. */
export const sandboxEnvShape = {
  SANDBOX_DRIVER: z
    .enum(['auto', 'docker', 'bubblewrap', 'none'], { error: "must be 'auto', 'docker', 'bubblewrap' or 'none'" })
    .default('auto'),
  /** A standard image with the sandbox layout; unset: a local image built offline on first use. */
  SANDBOX_IMAGE: z.string().min(1).optional(),
  DOCKER_SOCKET: z.string().min(1).optional(),
  BWRAP_PATH: z.string().min(1).optional(),
  SANDBOX_TIMEOUT_MS: positive.default(DEFAULT_LIMITS.timeoutMs),
  SANDBOX_MEMORY_MB: positive.default(DEFAULT_LIMITS.memoryBytes / MiB),
  SANDBOX_PIDS: positive.default(DEFAULT_LIMITS.pids),
  SANDBOX_CPUS: z.coerce.number().positive().default(DEFAULT_LIMITS.cpus),
  SANDBOX_CPU_SECONDS: positive.default(DEFAULT_LIMITS.cpuSeconds),
  SANDBOX_WORK_DIR_MB: positive.default(DEFAULT_LIMITS.workDirBytes / MiB),
  SANDBOX_FILE_SIZE_MB: positive.default(DEFAULT_LIMITS.fileSizeBytes / MiB),
  SANDBOX_OPEN_FILES: positive.default(DEFAULT_LIMITS.openFiles),
  SANDBOX_OUTPUT_KB: positive.default(DEFAULT_LIMITS.outputBytes / 1024),
};

type SandboxEnv = z.infer<z.ZodObject<typeof sandboxEnvShape>>;

export interface SandboxConfig {
  /** `auto`: Docker when an engine answers, else bubblewrap; `none`: layer 2 is skipped (never a pass). */
  driver: 'auto' | 'docker' | 'bubblewrap' | 'none';
  image?: string;
  dockerSocket?: string;
  bwrapPath?: string;
  limits: SandboxLimits;
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
  };
}
