import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'minio';
import type { Config } from '../../config';
import { withLockFile } from './lock';
import { assertPortsFree, bindAddressFor, canConnect, isLoopbackHost, parseUrlHostPort } from './net';
import {
  assertStartedWith,
  findRunning,
  isProcessAlive,
  spawnDetached,
  tailOfLog,
  type ManagedProcess,
} from './process';
import { waitUntil, WaitError } from './wait';

export interface S3Status {
  endpoint: string;
  bucket: string;
  /** True when this call started the server. */
  startedByUs: boolean;
  /** Set when the server is one we manage (pid file under dataDir), whether started now or earlier. */
  pid?: number;
  logFile?: string;
  bucketCreated: boolean;
}

export interface S3Options {
  /** Resolves the `weed` binary; only called when a server must be started. */
  weedPath: () => Promise<string>;
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** SeaweedFS component ports, derived from the S3 port so they avoid 8080 (our API) and a second stack. */
export interface S3Ports {
  s3: number;
  s3Grpc: number;
  master: number;
  masterGrpc: number;
  volume: number;
  volumeGrpc: number;
  filer: number;
  filerGrpc: number;
}

export function s3Ports(config: Config): S3Ports {
  const s3 = parseUrlHostPort(config.s3.endpoint).port;
  return {
    s3,
    master: s3 + 1,
    masterGrpc: s3 + 2,
    volume: s3 + 3,
    volumeGrpc: s3 + 4,
    filer: s3 + 5,
    filerGrpc: s3 + 6,
    s3Grpc: s3 + 7,
  };
}

/** Where the S3 identities (our access and secret key) live: outside weed's data dir, mode 0600. */
export const identitiesFile = (dataDir: string) => join(dataDir, 'config', 's3-identities.json');

/** `weed` arguments: master, volume, filer and S3 gateway in one process, on loopback only. */
export function weedServerArgs(config: Config): string[] {
  const ports = s3Ports(config);
  const ip = bindAddressFor(parseUrlHostPort(config.s3.endpoint).host);
  return [
    '-logtostderr', // glog would otherwise also write files into /tmp
    'server',
    `-dir=${join(config.dataDir, 's3')}`,
    `-ip=${ip}`,
    `-ip.bind=${ip}`,
    `-master.port=${ports.master}`,
    `-master.port.grpc=${ports.masterGrpc}`,
    '-master.volumeSizeLimitMB=64', // small volumes: fast start, no multi-GB files
    '-master.telemetry=false',
    '-master.electionTimeout=1s', // single master: a restart need not wait the default 10 s to re-elect itself
    `-volume.port=${ports.volume}`,
    `-volume.port.grpc=${ports.volumeGrpc}`,
    '-volume.max=0', // 0: as many volumes as free disk allows
    '-volume.preStopSeconds=1',
    '-filer',
    `-filer.port=${ports.filer}`,
    `-filer.port.grpc=${ports.filerGrpc}`,
    '-s3',
    `-s3.port=${ports.s3}`,
    `-s3.port.grpc=${ports.s3Grpc}`,
    '-s3.port.iceberg=0', // 0 disables: these would take fixed ports 8181 and 9101
    '-s3.port.lance=0',
    `-s3.config=${identitiesFile(config.dataDir)}`,
  ];
}

/** A MinIO client for config.s3 (path-style, as SeaweedFS and most local S3s need). */
export function createS3Client(s3: Config['s3'], retries = true): Client {
  const { host, port, secure } = parseUrlHostPort(s3.endpoint);
  return new Client({
    endPoint: host,
    port,
    useSSL: secure,
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    region: s3.region,
    pathStyle: true,
    retryOptions: { disableRetry: !retries },
  });
}

/**
 * Makes sure an S3 endpoint answers at S3_ENDPOINT, accepts our keys and has S3_BUCKET:
 * uses whatever already listens there, else starts a detached SeaweedFS when the endpoint is local.
 */
export async function ensureS3(config: Config, options: S3Options): Promise<S3Status> {
  const { endpoint, bucket } = config.s3;
  const target = parseUrlHostPort(endpoint);
  const { process: managed, startedByUs } = await withLockFile(join(config.dataDir, 'pids', 's3.lock'), async () => {
    const running = findRunning(config.dataDir, 's3');
    if (await canConnect(target)) return { process: running, startedByUs: false };
    if (running) {
      assertStartedWith(config.dataDir, 's3', running, weedServerArgs(config)); // still starting, with these settings
      return { process: running, startedByUs: false };
    }
    if (!isLoopbackHost(target.host))
      throw new Error(`S3 at ${endpoint} is unreachable: start that server or fix S3_ENDPOINT`);
    if (target.secure)
      throw new Error(`Cannot start a local S3 with TLS: use http:// in S3_ENDPOINT (now ${endpoint})`);
    return { process: await startSeaweed(config, options), startedByUs: true };
  });

  // A server we did not start was already listening: if it does not accept our keys soon it will not.
  const timeoutMs = managed ? (options.timeoutMs ?? 60_000) : 10_000;
  await waitForS3(config, managed, startedByUs, timeoutMs);
  if (managed) await waitForVolumeServer(config, managed, timeoutMs);
  const bucketCreated = await ensureBucket(createS3Client(config.s3), bucket, config.s3.region);
  return { endpoint, bucket, startedByUs, pid: managed?.pid, logFile: managed?.logFile, bucketCreated };
}

async function startSeaweed(config: Config, options: S3Options): Promise<ManagedProcess> {
  const ports = s3Ports(config);
  const ip = bindAddressFor(parseUrlHostPort(config.s3.endpoint).host);
  const { s3, ...internal } = ports;
  await assertPortsFree(
    ip,
    {
      'S3 API': s3,
      ...Object.fromEntries(Object.entries(internal).map(([role, port]) => [`SeaweedFS ${role}`, port])),
    },
    `SeaweedFS uses the S3_ENDPOINT port and the 7 after it: choose another S3_ENDPOINT port.`,
  );
  mkdirSync(join(config.dataDir, 's3'), { recursive: true });
  writeIdentities(config);
  const weed = await options.weedPath();
  options.log?.(`starting SeaweedFS S3 on ${ip}:${ports.s3} (data in ${join(config.dataDir, 's3')})`);
  return spawnDetached({ name: 's3', command: weed, args: weedServerArgs(config), dataDir: config.dataDir });
}

/** Writes the one S3 identity (our keys, full rights) with mode 0600, atomically. */
function writeIdentities(config: Config): void {
  const file = identitiesFile(config.dataDir);
  mkdirSync(join(config.dataDir, 'config'), { recursive: true, mode: 0o700 });
  const identities = {
    identities: [
      {
        name: 'quantumlayer',
        credentials: [{ accessKey: config.s3.accessKey, secretKey: config.s3.secretKey }],
        actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
      },
    ],
  };
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(identities, null, 2), { mode: 0o600 });
  chmodSync(temporary, 0o600); // in case the file existed with wider rights
  renameSync(temporary, file);
}

const CREDENTIAL_ERRORS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied']);
const s3ErrorCode = (error: unknown) => (error as { code?: unknown } | undefined)?.code;

/** Waits until S3 lists buckets with our keys. Refused keys end the wait at once, except while a server we just started boots. */
async function waitForS3(
  config: Config,
  managed: ManagedProcess | undefined,
  startedByUs: boolean,
  timeoutMs: number,
): Promise<void> {
  const client = createS3Client(config.s3, false);
  let refusedKeys: string | undefined;
  try {
    await waitUntil(
      () =>
        client.listBuckets().catch((error: unknown) => {
          const code = s3ErrorCode(error);
          refusedKeys = typeof code === 'string' && CREDENTIAL_ERRORS.has(code) ? code : undefined;
          throw error;
        }),
      {
        timeoutMs,
        intervalMs: 250,
        abortReason: () =>
          managed && !isProcessAlive(managed.pid)
            ? 'the S3 server exited'
            : refusedKeys && !startedByUs
              ? 'it refuses our keys'
              : undefined,
      },
    );
  } catch (error) {
    if (!(error instanceof WaitError)) throw error;
    if (refusedKeys) {
      const restart = managed
        ? ': a SeaweedFS started by up keeps the keys it started with, so run scripts/down.ts, then up again'
        : '';
      throw new Error(`S3 at ${config.s3.endpoint} rejects S3_ACCESS_KEY/S3_SECRET_KEY (${refusedKeys})${restart}`);
    }
    const where = managed ? `; see ${managed.logFile}:\n${tailOfLog(managed.logFile, 8, [config.s3.secretKey])}` : '';
    throw new Error(`S3 at ${config.s3.endpoint} did not become ready (${error.message})${where}`);
  }
}

/**
 * S3 answers before the volume server has joined the master (it retries every 5 s), and a first
 * write until then stalls: wait for the master to report free volume slots.
 */
async function waitForVolumeServer(config: Config, managed: ManagedProcess, timeoutMs: number): Promise<void> {
  const ip = bindAddressFor(parseUrlHostPort(config.s3.endpoint).host);
  const statusUrl = `http://${ip}:${s3Ports(config).master}/dir/status`;
  try {
    await waitUntil(
      async () => {
        const status = (await (await fetch(statusUrl, { signal: AbortSignal.timeout(2000) })).json()) as {
          Topology?: { Free?: number };
        };
        if (!status.Topology?.Free) throw new Error('no volume server has joined the master yet');
      },
      {
        timeoutMs,
        intervalMs: 250,
        abortReason: () => (isProcessAlive(managed.pid) ? undefined : 'the S3 server exited'),
      },
    );
  } catch (error) {
    if (!(error instanceof WaitError)) throw error;
    throw new Error(
      `SeaweedFS at ${config.s3.endpoint} has no writable volume server (${error.message}); see ${managed.logFile}:\n${tailOfLog(managed.logFile, 8, [config.s3.secretKey])}`,
    );
  }
}

/** Creates the bucket unless it exists; returns whether this call created it. */
async function ensureBucket(client: Client, bucket: string, region: string): Promise<boolean> {
  if (await client.bucketExists(bucket)) return false;
  try {
    await client.makeBucket(bucket, region);
    return true;
  } catch (error) {
    if (s3ErrorCode(error) === 'BucketAlreadyOwnedByYou') return false; // a concurrent `up` created it first
    if (s3ErrorCode(error) === 'BucketAlreadyExists') {
      throw new Error(
        `S3 bucket "${bucket}" exists but belongs to another account at this endpoint: choose another S3_BUCKET`,
      );
    }
    throw error;
  }
}

/**
 * Removes the Unix sockets SeaweedFS leaves in /tmp (seaweedfs-<component>-<port>.sock, never
 * cleaned up by weed itself) for the ports in weedArgs, once that weed has stopped.
 */
export function removeSeaweedSockets(weedArgs: string[]): void {
  const ports = new Set(weedArgs.flatMap((arg) => /^-[\w.]*port(?:\.grpc)?=(\d+)$/.exec(arg)?.[1] ?? []));
  let entries: string[];
  try {
    entries = readdirSync('/tmp');
  } catch {
    return;
  }
  for (const entry of entries) {
    const port = /^seaweedfs-[\w-]+-(\d+)\.sock$/.exec(entry)?.[1];
    if (port && ports.has(port)) rmSync(join('/tmp', entry), { force: true });
  }
}
