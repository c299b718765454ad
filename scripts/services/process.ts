import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './wait';

/**
 * Detached server processes with pid files. Each managed process `name` has, under dataDir:
 *   pids/<name>.pid      its pid (plain, so `kill $(cat …)` works)
 *   pids/<name>.cmdline  its argv, NUL-separated, to tell it from an unrelated process that reused the pid
 *   logs/<name>.log      its stdout and stderr
 */

export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string;
}

export type ProcessState = 'running' | 'exited' | 'not-ours';

export const pidFilePath = (dataDir: string, name: string) => join(dataDir, 'pids', `${name}.pid`);
const cmdlineFilePath = (dataDir: string, name: string) => join(dataDir, 'pids', `${name}.cmdline`);
export const logFilePath = (dataDir: string, name: string) => join(dataDir, 'logs', `${name}.log`);

export interface SpawnRequest {
  name: string;
  command: string;
  args: string[];
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group (a server that refuses root, such as PostgreSQL, started by root). */
  uid?: number;
  gid?: number;
}

/** Starts a server in its own session, output appended to its log, so it outlives the `up` that started it. */
export function spawnDetached({ name, command, args, dataDir, env, uid, gid }: SpawnRequest): ManagedProcess {
  mkdirSync(join(dataDir, 'pids'), { recursive: true });
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const logFile = logFilePath(dataDir, name);
  const logFd = openSync(logFile, 'a');
  try {
    writeFileSync(logFd, `\n--- ${new Date().toISOString()} starting ${name}\n`);
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: env ?? process.env,
      uid,
      gid,
    });
    child.once('error', () => undefined); // a failed exec is reported through the missing pid below
    if (child.pid === undefined) throw new Error(`Could not start ${name}: ${command} is not executable`);
    child.unref();
    writeFileSync(cmdlineFilePath(dataDir, name), [command, ...args].join('\0'));
    writeFileSync(pidFilePath(dataDir, name), `${child.pid}\n`);
    return { name, pid: child.pid, logFile };
  } finally {
    closeSync(logFd);
  }
}

/** The pid recorded for name, if any. */
export function readPid(dataDir: string, name: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFilePath(dataDir, name), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the recorded process still runs, and still is the command we started. */
export function processState(dataDir: string, name: string, pid: number): ProcessState {
  if (!isProcessAlive(pid)) return 'exited';
  let expected: string[];
  try {
    expected = readFileSync(cmdlineFilePath(dataDir, name), 'utf8').split('\0');
  } catch {
    return 'not-ours'; // without the recorded command line we cannot prove it is ours
  }
  const actual = commandLineOf(pid);
  return actual !== undefined && sameCommandLine(actual, expected) ? 'running' : 'not-ours';
}

/** Our managed process called name if it is running, else undefined (stale pid files are removed). */
export function findRunning(dataDir: string, name: string): ManagedProcess | undefined {
  const pid = readPid(dataDir, name);
  if (pid === undefined) return undefined;
  if (processState(dataDir, name, pid) === 'running') return { name, pid, logFile: logFilePath(dataDir, name) };
  removePidFiles(dataDir, name);
  return undefined;
}

/**
 * True while pid exists and has not finished exiting. A zombie (exited, not yet reaped by its
 * parent) counts as gone once its last thread is: until then it may still hold its sockets.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' || readdirSync(`/proc/${pid}/task`).length > 1;
  } catch {
    return existsSync('/proc/self') ? false : true; // no procfs (macOS): trust kill(0)
  }
}

function commandLineOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0');
  } catch {
    if (existsSync('/proc/self')) return undefined;
    const ps = spawnSync('ps', ['-p', String(pid), '-o', 'args='], { encoding: 'utf8' }); // no procfs (macOS)
    return ps.status === 0 ? ps.stdout.trim().split(' ') : undefined;
  }
}

function sameCommandLine(actual: string[], expected: string[]): boolean {
  return actual.join(' ') === expected.join(' ');
}

/** The argv recorded when name was started, if any. */
export function readCommandLine(dataDir: string, name: string): string[] | undefined {
  try {
    return readFileSync(cmdlineFilePath(dataDir, name), 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

/**
 * Throws when the running process was started with other arguments than `args` (settings such as
 * ports changed since): waiting for it would never succeed, and starting a second one would clash.
 */
export function assertStartedWith(dataDir: string, name: string, running: ManagedProcess, args: string[]): void {
  const recorded = readFileSync(cmdlineFilePath(dataDir, name), 'utf8').split('\0').slice(1);
  if (!sameCommandLine(recorded, args)) {
    throw new Error(
      `${name} (pid ${running.pid}) was started with other settings and is not answering: stop it with scripts/down.ts, then start again`,
    );
  }
}

export function removePidFiles(dataDir: string, name: string): void {
  rmSync(pidFilePath(dataDir, name), { force: true });
  rmSync(cmdlineFilePath(dataDir, name), { force: true });
}

/** Names of every process with a pid file under dataDir. */
export function listManagedNames(dataDir: string): string[] {
  const dir = join(dataDir, 'pids');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.pid'))
    .map((file) => file.slice(0, -'.pid'.length))
    .sort();
}

export interface StopResult {
  name: string;
  pid?: number;
  /** stopped: exited after SIGTERM; killed: needed SIGKILL; not-running: pid file was stale; not-ours: pid reused by another command, left alone. */
  outcome: 'stopped' | 'killed' | 'not-running' | 'not-ours';
}

/** SIGTERM, then SIGKILL after graceMs, for the process recorded under name, and only if it is still ours. */
export async function stopManaged(dataDir: string, name: string, graceMs: number): Promise<StopResult> {
  const pid = readPid(dataDir, name);
  const state = pid === undefined ? 'exited' : processState(dataDir, name, pid);
  if (pid === undefined || state !== 'running') {
    removePidFiles(dataDir, name);
    return { name, pid, outcome: state === 'not-ours' ? 'not-ours' : 'not-running' };
  }
  signal(pid, 'SIGTERM');
  if (await waitForExit(pid, graceMs)) {
    removePidFiles(dataDir, name);
    return { name, pid, outcome: 'stopped' };
  }
  signal(pid, 'SIGKILL');
  if (!(await waitForExit(pid, 5000))) throw new Error(`${name} (pid ${pid}) survived SIGKILL`);
  removePidFiles(dataDir, name);
  return { name, pid, outcome: 'killed' };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // ESRCH: it exited meanwhile
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/** The last lines of a log, for error messages; known secrets are masked in case a server echoed one. */
export function tailOfLog(logFile: string, lines = 8, secrets: string[] = []): string {
  try {
    let text = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    for (const secret of secrets.filter(Boolean)) text = text.split(secret).join('***');
    return text;
  } catch {
    return '';
  }
}
