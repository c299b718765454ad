import { z } from 'zod';

// Running generated code in a sandbox (adapters/sandbox) and what layer 2 reports about it.

export const sandboxDrivers = ['docker', 'bubblewrap'] as const;
export const SandboxDriverName = z.enum(sandboxDrivers);
export type SandboxDriverName = z.infer<typeof SandboxDriverName>;

/** Limits of one run; docs/sandbox.md explains each and its default. */
export const SandboxLimits = z.object({
  /** Wall clock for the whole run (install → tests); the run is killed when it is up. */
  timeoutMs: z.number().int().positive(),
  /** Memory of all the run's processes together (Docker, bubblewrap with cgroups); per process otherwise. */
  memoryBytes: z.number().int().positive(),
  /** Processes and threads together. */
  pids: z.number().int().positive(),
  /** CPU share (Docker) and CPU seconds per process (both drivers). */
  cpus: z.number().positive(),
  cpuSeconds: z.number().int().positive(),
  /** Size of the writable work dir (tmpfs) and of /tmp. */
  workDirBytes: z.number().int().positive(),
  /** Largest file a process may write. */
  fileSizeBytes: z.number().int().positive(),
  openFiles: z.number().int().positive(),
  /** Output of one step (and of the sandbox as a whole) beyond which the run is stopped. */
  outputBytes: z.number().int().positive(),
});
export type SandboxLimits = z.infer<typeof SandboxLimits>;

export const limitKinds = ['timeout', 'memory', 'pids', 'output', 'disk', 'cpu'] as const;
export const LimitKind = z.enum(limitKinds);
export type LimitKind = z.infer<typeof LimitKind>;

export const LimitHit = z.object({ limit: LimitKind, step: z.string().optional(), detail: z.string() });
export type LimitHit = z.infer<typeof LimitHit>;

export const stepNames = ['install', 'typecheck', 'build', 'test'] as const;
export const StepName = z.enum(stepNames);
export type StepName = z.infer<typeof StepName>;

export const StepResult = z.object({
  step: StepName,
  status: z.enum(['passed', 'failed', 'skipped', 'killed']),
  durationMs: z.number(),
  exitCode: z.number().int().nullable().optional(),
  signal: z.string().nullable().optional(),
  reason: z.string().optional(),
  /** Start and end of the step's output, capped; never the whole stream. */
  outputExcerpt: z.string(),
});
export type StepResult = z.infer<typeof StepResult>;

export const TestFailure = z.object({ name: z.string(), excerpt: z.string() });
export type TestFailure = z.infer<typeof TestFailure>;

/** One test as the test runner reported it (by name: Node's TAP output names no file for passing tests). */
export const TestResult = z.object({ name: z.string(), status: z.enum(['passed', 'failed', 'skipped']) });
export type TestResult = z.infer<typeof TestResult>;

export const TestCounts = z.object({
  passed: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  failures: z.array(TestFailure),
  /**
   * Every test that ran and its outcome, capped (MAX_TEST_RESULTS in the runner): what requirement coverage
   * matches tests against. Absent from runners that predate it.
   */
  results: z.array(TestResult).optional(),
});
export type TestCounts = z.infer<typeof TestCounts>;

/** What one sandbox run found out; test counts are what the project's own tests reported. */
export const SandboxRunResult = z.object({
  driver: SandboxDriverName,
  /** `completed`: every step ran to an end; `limit`: a limit stopped it; `error`: the sandbox itself failed. */
  status: z.enum(['completed', 'limit', 'error']),
  reason: z.string().optional(),
  steps: z.array(StepResult),
  tests: TestCounts,
  limitHits: z.array(LimitHit),
  /** Dependencies the project names that the curated offline set does not hold. */
  missingDependencies: z.array(z.string()),
  durationMs: z.number(),
  /** From asking for the sandbox to the code inside starting. */
  startupMs: z.number(),
  resources: z.object({ peakMemoryBytes: z.number().optional(), cpuMs: z.number().optional() }),
});
export type SandboxRunResult = z.infer<typeof SandboxRunResult>;
