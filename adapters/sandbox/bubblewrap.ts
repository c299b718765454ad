import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { SandboxLimits } from '../../contracts/sandbox';
import { cgroupsUsable, reapCgroups, RunCgroup } from './cgroup-v1';
import { holdLease } from './worker-lease';
import { DEFAULT_LIMITS } from './config';
import type { ReapFilter, SandboxDriver, SandboxProcess } from './driver';
import { DEPS_DIR, RUNNER_IN_SANDBOX, RUNNER_UID, SANDBOX_UID, WORK_DIR } from './layout';
import { stagedInputs, type StagedInputs } from './staging';

export interface BubblewrapSandboxOptions {
  /** bwrap executable; default: `bwrap` on PATH. */
  bwrapPath?: string;
}

/**
 * Host uids the runs get when the worker is root: a pair per run (the runner's, even; its steps', the next
 * one), so the process limit counts only that run and the steps cannot touch the runner.
 */
const HOST_UID_RANGE = [200_000, 265_000] as const;
/** What the sandbox sees of the host: the system's programs and libraries, read-only; no /etc, no /home. */
const SYSTEM_DIRS = ['/usr', '/lib', '/lib64', '/lib32', '/bin', '/sbin'];
const ADDRESS_SPACE_HEADROOM = 2 * 1024 ** 3;
const HOST_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
/** Node inside the sandbox: this worker's own binary (or its staged copy). */
const NODE_IN_SANDBOX = '/opt/qlp/node';
/** What the runner may do as root of its user namespace: start the steps as SANDBOX_UID, end them, chown. */
const RUNNER_CAPS = ['CAP_SETUID', 'CAP_SETGID', 'CAP_KILL', 'CAP_CHOWN'];
const PROBE_TIMEOUT_MS = 30_000;
/** The sandbox's pid 1: runs the command as its child (never `exec`) and reaps every orphan meanwhile. */
const INIT = ['/bin/sh', '-c', '"$@"; exit $?', 'init'];

/** One started bwrap: the process, and the uids its runner and steps have on the host (as root). */
interface Started {
  child: ChildProcess;
  /** The sandbox's pid 1 as the host sees it, once bwrap has said (--info-fd). */
  initPid: Promise<number | undefined>;
  hostUid?: number;
  stepHostUid?: number;
}

/**
 * bubblewrap: every namespace unshared (no network at all), dies with its parent, new session, a read-only
 * view of the system with a size-limited tmpfs work dir, an empty environment; limits by prlimit (per
 * process) and, where this process may create them, per-run cgroups (whole run). As root, the runner is root
 * of a user namespace of its own with two host uids mapped, and the project's steps run as the other one.
 */
export class BubblewrapSandbox implements SandboxDriver {
  readonly name = 'bubblewrap' as const;
  private readonly bwrap: string;
  private probe: Promise<string | undefined> | undefined;
  private cgroups: Promise<boolean> | undefined;

  constructor(options: BubblewrapSandboxOptions = {}) {
    this.bwrap = options.bwrapPath ?? 'bwrap';
  }

  unavailable(): Promise<string | undefined> {
    this.probe ??= this.tryRun();
    return this.probe;
  }

  /**
   * A trial sandbox set up exactly like a run (same user, namespaces, binds), whose command checks what the
   * runner needs: it tells more than the binary's presence (user namespaces may be off; a private checkout).
   */
  private async tryRun(): Promise<string | undefined> {
    if (!onPath(this.bwrap)) return `bubblewrap is not installed (${this.bwrap}; Debian package bubblewrap)`;
    let staged: StagedInputs;
    try {
      staged = await stagedInputs();
    } catch (error) {
      return `the sandbox's inputs cannot be staged for bubblewrap: ${(error as Error).message}`;
    }
    const check = [
      "const fs = require('node:fs');",
      `for (const f of ${JSON.stringify([RUNNER_IN_SANDBOX, `${DEPS_DIR}/node_modules/typescript/package.json`, '/etc/passwd'])}) fs.accessSync(f, fs.constants.R_OK);`,
      // As root the runner must be able to start its steps as the sandbox user.
      process.getuid?.() === 0
        ? `require('node:child_process').execFileSync(process.execPath, ['-e', '0'], { uid: ${SANDBOX_UID}, gid: ${SANDBOX_UID}, stdio: 'inherit' });`
        : '',
    ].join('\n');
    let started: Started;
    try {
      started = await this.start(DEFAULT_LIMITS, undefined, staged, [NODE_IN_SANDBOX, '-e', check]);
    } catch (error) {
      return `bubblewrap cannot start a sandbox here: ${(error as Error).message}`;
    }
    const { child } = started;
    child.stdin?.end();
    const stderr = collect(child.stderr);
    collect(child.stdout);
    const timer = setTimeout(() => void kill(started), PROBE_TIMEOUT_MS);
    const exitCode = await new Promise<number | null>((resolve) => {
      child.on('close', (code) => resolve(code));
      child.on('error', () => resolve(null));
    });
    clearTimeout(timer);
    if (exitCode === 0) return undefined;
    return `bubblewrap cannot run a sandbox here (exit ${exitCode}): ${stderr().trim().slice(0, 500)}`;
  }

  async launch(limits: SandboxLimits): Promise<SandboxProcess> {
    const staged = await stagedInputs();
    this.cgroups ??= cgroupsUsable();
    // The lease first: a run's cgroup is never without a worker that can be shown to live.
    if (await this.cgroups) await holdLease();
    const cgroup = (await this.cgroups) ? new RunCgroup() : undefined;
    await cgroup?.create(limits.memoryBytes, limits.pids);
    let started: Started;
    try {
      started = await this.start(limits, cgroup, staged, [NODE_IN_SANDBOX, RUNNER_IN_SANDBOX]);
    } catch (error) {
      await cgroup?.remove();
      throw error;
    }
    const { child } = started;
    const exited = new Promise<{ exitCode: number | null }>((resolve) => {
      child.on('close', (exitCode) => resolve({ exitCode }));
      child.on('error', () => resolve({ exitCode: null }));
    }).then(async ({ exitCode }) => ({
      exitCode,
      hits: (await cgroup?.limitHits()) ?? [],
      resources: { peakMemoryBytes: await cgroup?.peakMemoryBytes() },
    }));
    return {
      id: cgroup?.name ?? `pid-${child.pid ?? 'none'}`,
      hostUid: started.hostUid,
      stepHostUid: started.stepHostUid,
      stepUid: started.stepHostUid === undefined ? undefined : SANDBOX_UID,
      stdin: child.stdin!,
      stdout: child.stdout!,
      stderr: child.stderr!,
      exited,
      kill: () => kill(started),
      cleanup: async () => {
        await cgroup?.remove();
      },
    };
  }

  async reap(filter: ReapFilter = {}): Promise<number> {
    return reapCgroups(filter.ownerPid);
  }

  /** Starts bwrap with `command` inside (via the reaping pid 1); as root, in a two-uid user namespace. */
  private async start(
    limits: SandboxLimits,
    cgroup: RunCgroup | undefined,
    staged: StagedInputs,
    command: string[],
  ): Promise<Started> {
    const root = process.getuid?.() === 0;
    // An even uid for the runner, the next one for its steps.
    const hostUid = root ? 2 * randomInt(HOST_UID_RANGE[0] / 2, HOST_UID_RANGE[1] / 2) : undefined;
    const stepHostUid = hostUid === undefined ? undefined : hostUid + 1;
    const userns = hostUid === undefined ? undefined : await userNamespace(hostUid, stepHostUid!);
    const launcher = [
      // As root, run as an unprivileged uid of its own: root is exempt from the process limit.
      ...(hostUid !== undefined ? ['setpriv', `--reuid=${hostUid}`, `--regid=${hostUid}`, '--clear-groups', '--'] : []),
      'prlimit',
      // Without a cgroup, address space is the only memory limit: V8 reserves far more than it uses (under
      // 2 GiB it cannot grow its heap) and WebAssembly (fetch's HTTP parser) cannot start under it at all.
      ...(cgroup ? [] : [`--as=${limits.memoryBytes + ADDRESS_SPACE_HEADROOM}`]),
      `--cpu=${limits.cpuSeconds}`,
      `--fsize=${limits.fileSizeBytes}`,
      `--nofile=${limits.openFiles}`,
      // With a pids cgroup that is the limit (it counts refusals, which the runner watches); this is a backstop.
      `--nproc=${cgroup ? limits.pids * 2 : limits.pids}`,
      '--core=0',
      '--',
      this.bwrap,
      ...bwrapArguments(limits, cgroup, staged, userns !== undefined),
      '--',
      ...INIT,
      ...command,
    ];
    // Joining the cgroups before exec puts bwrap and everything it starts inside them.
    const join = cgroup ? cgroup.procsFiles.map((f) => `echo $$ > ${f}`).join(' && ') + ' && ' : '';
    let child: ChildProcess;
    try {
      child = spawn('/bin/sh', ['-c', `${join}exec "$@"`, 'sandbox', ...launcher], {
        // Nothing of the worker's environment reaches the sandbox, not even via bwrap's own /proc entry.
        env: { PATH: HOST_PATH },
        // 3: the user namespace (as root); 4: bwrap's --info-fd, which names the sandbox's pid 1.
        stdio: ['pipe', 'pipe', 'pipe', userns ?? 'ignore', 'pipe'],
      });
    } finally {
      if (userns !== undefined) closeSync(userns); // the child has its own copy
    }
    const initPid = new Promise<number | undefined>((resolve) => {
      const info = collect(child.stdio[4] as Readable, () => {
        resolve(Number(/"child-pid":\s*(\d+)/.exec(info())?.[1]) || undefined);
      });
    });
    return { child, initPid, hostUid, stepHostUid };
  }
}

/**
 * Kills the sandbox by its pid 1, so bwrap sees its child end, collects it and exits (killing bwrap itself
 * would leave that child to whoever adopts orphans, a worker running as a container's pid 1 included);
 * bwrap itself only when it has not started the sandbox yet.
 */
async function kill(started: Started): Promise<void> {
  const { child } = started;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const init = await Promise.race([started.initPid, Promise.resolve(null)]);
  try {
    // Still bwrap's child (not collected, its pid not reused by now): kill it; else bwrap itself.
    if (typeof init === 'number' && (await parentOf(init)) === child.pid) process.kill(init, 'SIGKILL');
    else child.kill('SIGKILL'); // --die-with-parent takes the sandbox with it
  } catch {
    child.kill('SIGKILL');
  }
}

async function parentOf(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) || undefined;
}

/**
 * A user namespace owned by `hostUid` in which that uid is root (the runner) and `stepHostUid` is
 * SANDBOX_UID (its steps), with user namespaces disabled inside (bwrap's --disable-userns cannot be had
 * with a namespace of our own). Only root may map two uids; returns an open fd of the namespace.
 */
async function userNamespace(hostUid: number, stepHostUid: number): Promise<number> {
  const holder = spawn(
    'setpriv',
    [
      `--reuid=${hostUid}`,
      `--regid=${hostUid}`,
      '--clear-groups',
      '--',
      'unshare',
      '--user',
      '--keep-caps', // so the shell keeps its capabilities in the namespace, to set its limit
      '--',
      '/bin/sh',
      '-c',
      'echo ready && read _ && echo 0 > /proc/sys/user/max_user_namespaces && echo done',
    ],
    { env: { PATH: HOST_PATH }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const out = collect(holder.stdout);
  const err = collect(holder.stderr);
  const exited = new Promise<number | null>((resolve) => {
    holder.on('close', (code) => resolve(code));
    holder.on('error', () => resolve(null));
  });
  const ready = await new Promise<boolean>((resolve) => {
    holder.stdout.on('data', () => out().includes('ready\n') && resolve(true));
    void exited.then(() => resolve(false));
  });
  let fd: number | undefined;
  try {
    if (!ready) throw new Error('could not create a user namespace');
    fd = openSync(`/proc/${holder.pid}/ns/user`, 'r');
    const map = `${RUNNER_UID} ${hostUid} 1\n${SANDBOX_UID} ${stepHostUid} 1\n`;
    await writeFile(`/proc/${holder.pid}/uid_map`, map);
    await writeFile(`/proc/${holder.pid}/gid_map`, map);
    holder.stdin.end('\n');
    const code = await exited;
    if (code !== 0 || !out().includes('done')) throw new Error('could not limit user namespaces inside');
    return fd;
  } catch (error) {
    holder.kill('SIGKILL');
    if (fd !== undefined) closeSync(fd);
    throw new Error(`${(error as Error).message}: ${err().trim().slice(0, 300)}`);
  }
}

function bwrapArguments(
  limits: SandboxLimits,
  cgroup: RunCgroup | undefined,
  staged: StagedInputs,
  ownUserns: boolean,
): string[] {
  // The run's own cgroups, read-only, where Docker shows a container its own: the runner watches the process
  // limit there and reports peak memory.
  const cgroups = cgroup
    ? (['memory', 'pids'] as const).flatMap((c) => ['--ro-bind', cgroup.dir(c), `/sys/fs/cgroup/${c}`])
    : [];
  const system = SYSTEM_DIRS.filter((dir) => existsSync(dir)).flatMap((dir) => ['--ro-bind', dir, dir]);
  // The parents of what is bound in, searchable by the steps (bwrap would make them 0700, owned by the runner).
  const parents = ['/opt', '/opt/qlp', DEPS_DIR, '/etc', ...(cgroup ? ['/sys', '/sys/fs', '/sys/fs/cgroup'] : [])];
  const identity = ownUserns
    ? [
        // The namespace made by userNamespace(): the runner is its root, with only RUNNER_CAPS.
        ...['--userns', '3', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup'],
        ...['--cap-drop', 'ALL', ...RUNNER_CAPS.flatMap((c) => ['--cap-add', c])],
        ...['--uid', String(RUNNER_UID), '--gid', String(RUNNER_UID)],
      ]
    : [
        // Not root: one uid only, runner and steps alike (docs/sandbox.md says what that leaves open).
        '--unshare-all',
        '--unshare-user', // --unshare-all only tries; without a user namespace --uid and --disable-userns fail
        '--disable-userns',
        ...['--cap-drop', 'ALL', '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_UID)],
      ];
  return [
    ...identity,
    '--die-with-parent',
    '--new-session',
    // bwrap's own pid 1 would outlive bwrap for a moment, an orphan for whoever adopts it; INIT reaps instead.
    '--as-pid-1',
    '--info-fd',
    '4',
    '--hostname',
    'sandbox',
    ...system,
    ...parents.flatMap((dir) => ['--perms', '0755', '--dir', dir]),
    '--ro-bind',
    staged.nodeModules,
    `${DEPS_DIR}/node_modules`,
    '--ro-bind',
    staged.runner,
    RUNNER_IN_SANDBOX,
    // Only what programs expect of /etc: localhost resolves, the sandbox user has a name. Nothing of the host's.
    ...['hosts', 'passwd', 'group'].flatMap((file) => ['--ro-bind', join(staged.etc, file), `/etc/${file}`]),
    '--ro-bind',
    staged.node,
    NODE_IN_SANDBOX,
    ...cgroups,
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    // Writable by the steps whoever owns them (the runner, as root).
    ...['--size', String(limits.workDirBytes), '--perms', '1777', '--tmpfs', WORK_DIR],
    ...['--size', String(limits.workDirBytes), '--perms', '1777', '--tmpfs', '/tmp'],
    '--remount-ro',
    '/',
    '--chdir',
    WORK_DIR,
    '--clearenv',
    '--setenv',
    'PATH',
    '/usr/local/bin:/usr/bin:/bin',
    '--setenv',
    'HOME',
    WORK_DIR,
    '--setenv',
    'QLP_WORK_DIR',
    WORK_DIR,
    '--setenv',
    'QLP_DEPS_DIR',
    DEPS_DIR,
  ];
}

/** Whether `command` exists (a path) or is on the host PATH. */
function onPath(command: string): boolean {
  if (command.includes('/')) return existsSync(command);
  return HOST_PATH.split(':').some((dir) => existsSync(join(dir, command)));
}

/** Accumulates a stream's text (the first 64 KiB); `onEnd` runs when it ends. */
function collect(stream: Readable | null | undefined, onEnd?: () => void): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => {
    if (text.length < 65_536) text += chunk.toString('utf8');
  });
  stream?.on('end', () => onEnd?.());
  stream?.on('error', () => onEnd?.());
  if (!stream) onEnd?.();
  return () => text;
}
