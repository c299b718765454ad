import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { Config } from '../../config';
import { searchAttributeRegistrations } from '../../contracts/search-attributes';
import { withLockFile } from './lock';
import { assertPortsFree, bindAddressFor, canConnect, isLoopbackHost, parseHostPort, parseUrlHostPort } from './net';
import {
  assertStartedWith,
  findRunning,
  isProcessAlive,
  spawnDetached,
  tailOfLog,
  type ManagedProcess,
} from './process';
import { waitUntil, WaitError } from './wait';

export interface TemporalStatus {
  address: string;
  namespace: string;
  uiUrl: string;
  /** True when this call started the server. */
  startedByUs: boolean;
  /** Set when the server is one we manage (pid file under dataDir), whether started now or earlier. */
  pid?: number;
  logFile?: string;
  /** Custom search attributes this call had to register (empty when all existed). */
  searchAttributesAdded: string[];
}

export interface TemporalOptions {
  /** Resolves the `temporal` CLI; only called when a server must be started. */
  cliPath: () => Promise<string>;
  /** Run without a database file: state is lost when the server stops (tests). */
  inMemory?: boolean;
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** Ports of a local dev server; the extra ones derive from the gRPC port so two stacks never clash. */
export interface TemporalPorts {
  grpc: number;
  ui: number;
  http: number;
  metrics: number;
}

export function temporalPorts(config: Config): TemporalPorts {
  const grpc = parseHostPort(config.temporal.address).port;
  return { grpc, ui: parseUrlHostPort(config.temporal.uiUrl).port, http: grpc + 1, metrics: grpc + 2 };
}

/** `temporal server start-dev` arguments for config (dbFile undefined: in memory). */
export function temporalServerArgs(config: Config, dbFile: string | undefined): string[] {
  const ports = temporalPorts(config);
  const ip = bindAddressFor(parseHostPort(config.temporal.address).host);
  const namespace = config.temporal.namespace;
  return [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(ports.grpc),
    '--ui-port',
    String(ports.ui),
    '--http-port',
    String(ports.http),
    '--metrics-port',
    String(ports.metrics),
    ...(dbFile ? ['--db-filename', dbFile] : []),
    ...(namespace === 'default' ? [] : ['--namespace', namespace]), // "default" always exists
    ...Object.entries(searchAttributeRegistrations).flatMap(([name, type]) => [
      '--search-attribute',
      `${name}=${type}`,
    ]),
    '--ui-disable-news-fetch', // the UI would otherwise call out to the internet
    '--log-level',
    'warn',
  ];
}

/**
 * Makes sure a Temporal server answers at TEMPORAL_ADDRESS with our namespace and search attributes:
 * uses whatever already listens there, else starts a detached dev server when the address is local.
 */
export async function ensureTemporal(config: Config, options: TemporalOptions): Promise<TemporalStatus> {
  const { address, namespace, uiUrl } = config.temporal;
  const target = parseHostPort(address);
  const { process: managed, startedByUs } = await withLockFile(
    join(config.dataDir, 'pids', 'temporal.lock'),
    async () => {
      const running = findRunning(config.dataDir, 'temporal');
      if (await canConnect(target)) return { process: running, startedByUs: false };
      if (running) {
        // ours but not answering yet: fine if still starting with these settings, a dead end if settings changed
        assertStartedWith(config.dataDir, 'temporal', running, temporalServerArgs(config, dbFileFor(config, options)));
        return { process: running, startedByUs: false };
      }
      if (!isLoopbackHost(target.host)) {
        throw new Error(`Temporal at ${address} is unreachable: start that server or fix TEMPORAL_ADDRESS`);
      }
      return { process: await startDevServer(config, options), startedByUs: true };
    },
  );

  // A server we did not start was already listening: if it does not answer soon it will not.
  const timeoutMs = managed ? (options.timeoutMs ?? 60_000) : 15_000;
  const connection = await connectWhenReady(address, managed, timeoutMs);
  try {
    await ensureNamespace(connection, namespace, address, isLoopbackHost(target.host), options.log);
    const searchAttributesAdded = await ensureSearchAttributes(connection, namespace, address, options.log);
    return {
      address,
      namespace,
      uiUrl,
      startedByUs,
      pid: managed?.pid,
      logFile: managed?.logFile,
      searchAttributesAdded,
    };
  } finally {
    await connection.close();
  }
}

const dbFileFor = (config: Config, options: TemporalOptions) =>
  options.inMemory ? undefined : join(config.dataDir, 'temporal', 'temporal.db');

async function startDevServer(config: Config, options: TemporalOptions): Promise<ManagedProcess> {
  const ports = temporalPorts(config);
  const ip = bindAddressFor(parseHostPort(config.temporal.address).host);
  await assertPortsFree(
    ip,
    {
      'Temporal gRPC': ports.grpc,
      'Temporal Web UI': ports.ui,
      'Temporal HTTP API': ports.http,
      'Temporal metrics': ports.metrics,
    },
    'Choose another TEMPORAL_ADDRESS port (HTTP API and metrics use the next two) or TEMPORAL_UI_URL port.',
  );
  const dbFile = dbFileFor(config, options);
  if (dbFile) mkdirSync(join(config.dataDir, 'temporal'), { recursive: true });
  const cli = await options.cliPath();
  options.log?.(`starting Temporal dev server on ${ip}:${ports.grpc} (${dbFile ?? 'in memory'})`);
  return spawnDetached({
    name: 'temporal',
    command: cli,
    args: temporalServerArgs(config, dbFile),
    dataDir: config.dataDir,
  });
}

/** Connects once the frontend answers; fails early, naming the log, if our server process died. */
async function connectWhenReady(
  address: string,
  managed: ManagedProcess | undefined,
  timeoutMs: number,
): Promise<Connection> {
  try {
    const probe = async () => {
      // a cheap TCP check first: each failed Connection.connect would leave a gRPC channel retrying
      if (!(await canConnect(parseHostPort(address)))) throw new Error(`nothing listens at ${address}`);
      return Connection.connect({ address, connectTimeout: '2s' });
    };
    return await waitUntil(probe, {
      timeoutMs,
      intervalMs: 200,
      abortReason: () => (managed && !isProcessAlive(managed.pid) ? 'the temporal server exited' : undefined),
    });
  } catch (error) {
    if (!(error instanceof WaitError)) throw error;
    const where = managed ? `; see ${managed.logFile}:\n${tailOfLog(managed.logFile)}` : ': check TEMPORAL_ADDRESS';
    throw new Error(`Temporal at ${address} did not become ready (${error.message})${where}`);
  }
}

const GRPC_ALREADY_EXISTS = 6;
const GRPC_NOT_FOUND = 5;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNIMPLEMENTED = 12;
const grpcCode = (error: unknown) => (isGrpcServiceError(error) ? error.code : undefined);

/** Registers the namespace on a local server (a dev server started by someone else may lack it). */
async function ensureNamespace(
  connection: Connection,
  namespace: string,
  address: string,
  mayRegister: boolean,
  log?: (line: string) => void,
): Promise<void> {
  const describe = () =>
    connection.withDeadline(Date.now() + 5000, () => connection.workflowService.describeNamespace({ namespace }));
  try {
    await describe();
    return;
  } catch (error) {
    if (grpcCode(error) !== GRPC_NOT_FOUND) throw error;
    if (!mayRegister) {
      throw new Error(
        `Namespace "${namespace}" does not exist at ${address}: create it (temporal operator namespace create ${namespace}) or fix TEMPORAL_NAMESPACE`,
      );
    }
  }
  log?.(`registering namespace ${namespace} at ${address}`);
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('24h') });
  } catch (error) {
    if (grpcCode(error) !== GRPC_ALREADY_EXISTS) throw error; // a concurrent `up` registered it first
  }
  // Each service's namespace cache refreshes on its own (about every 10 s): wait until both we use see it.
  await waitUntil(
    async () => {
      await describe();
      await connection.withDeadline(Date.now() + 5000, () =>
        connection.operatorService.listSearchAttributes({ namespace }),
      );
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
}

/** temporal.api.enums.v1.IndexedValueType values for the CLI type names we use. */
const INDEXED_VALUE_TYPE = { Keyword: 2, Int: 3, Double: 4, Bool: 5 } as const;

/** Adds whichever of our custom search attributes the namespace lacks; returns their names. */
async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  address: string,
  log?: (line: string) => void,
): Promise<string[]> {
  let existing: Record<string, number>;
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes;
  } catch (error) {
    const code = grpcCode(error);
    if (code !== GRPC_PERMISSION_DENIED && code !== GRPC_UNIMPLEMENTED) throw error;
    // Temporal Cloud has no operator service: attributes are registered there with tcld or the web console
    log?.(
      `warning: cannot list search attributes at ${address}; register ${Object.keys(searchAttributeRegistrations).join(', ')} yourself`,
    );
    return [];
  }
  const wrongType = Object.entries(searchAttributeRegistrations).filter(
    ([name, type]) => name in existing && existing[name] !== INDEXED_VALUE_TYPE[type],
  );
  if (wrongType.length > 0) {
    throw new Error(
      `Search attribute(s) ${wrongType.map(([name, type]) => `${name} (want ${type})`).join(', ')} exist with another type in namespace ${namespace} at ${address}`,
    );
  }
  const missing = Object.entries(searchAttributeRegistrations).filter(([name]) => !(name in existing));
  if (missing.length === 0) return [];
  log?.(`registering search attributes ${missing.map(([name]) => name).join(', ')} in namespace ${namespace}`);
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPE[type]])),
    });
  } catch (error) {
    if (grpcCode(error) !== GRPC_ALREADY_EXISTS) throw error; // a concurrent `up` added them first
  }
  return missing.map(([name]) => name);
}
