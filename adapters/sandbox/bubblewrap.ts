import { execFile, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SandboxLimits } from '../../contracts/sandbox';
import { cgroupsUsable, reapCgroups, RunCgroup } from './cgroup-v1';
import type { ReapFilter, SandboxDriver, SandboxProcess } from './driver';
import {
  CURATED_PACKAGES,
  curatedPackageDir,
  DEPS_DIR,
  RUNNER_IN_SANDBOX,
  RUNNER_PATH,
  SANDBOX_ETC,
  SANDBOX_UID,
  WORK_DIR,
} from './layout';

const run = promisify(execFile);

export interface BubblewrapSandboxOptions {
  /** bwrap executable; default: `bwrap` on PATH. */
  bwrapPath?: string;
}

/** Host uids the runs get when the worker is root: one per run, so the process limit counts only that run. */
const HOST_UID_RANGE = [200_000, 265_000] as const;
/** What the sandbox sees of the host: the system's programs and libraries, read-only; no /etc, no /home. */
const SYSTEM_DIRS = ['/usr', '/lib', '/lib64', '/lib32', '/bin', '/sbin'];
const ADDRESS_SPACE_HEADROOM = 2 * 1024 ** 3;
const HOST_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
/** Node inside the sandbox: this worker's own binary, wherever it is installed. */
const NODE_IN_SANDBOX = '/opt/qlp/node';

/**
 * bubblewrap: every namespace unshared (no network at all), dies with its parent, new session, a read-only
 * view of the system with a size-limited tmpfs work dir, capabilities dropped, an empty environment;
 * limits by prlimit (per process) and, where this process may create them, per-run cgroups (whole run).
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
    // A trial run tells more than the binary's presence: user namespaces may be switched off.
    this.probe ??= run(this.bwrap, ['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', 'true'], {
      timeout: 10_000,
      env: { PATH: HOST_PATH },
    }).then(
      () => undefined,
      (error: NodeJS.ErrnoException & { stderr?: string }) =>
        error.code === 'ENOENT'
          ? `bubblewrap is not installed (${this.bwrap}; Debian package bubblewrap)`
          : `bubblewrap cannot create its namespaces here: ${(error.stderr || error.message).trim()}`,
    );
    return this.probe;
  }

  async launch(limits: SandboxLimits): Promise<SandboxProcess> {
    this.cgroups ??= cgroupsUsable();
    const cgroup = (await this.cgroups) ? new RunCgroup() : undefined;
    await cgroup?.create(limits.memoryBytes, limits.pids);
    const root = process.getuid?.() === 0;
    const hostUid = randomInt(...HOST_UID_RANGE);
    const command = [
      // As root, run as an unprivileged uid of its own: root is exempt from the process limit.
      ...(root ? ['setpriv', `--reuid=${hostUid}`, `--regid=${hostUid}`, '--clear-groups', '--'] : []),
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
      ...bwrapArguments(limits, cgroup),
    ];
    // Joining the cgroups before exec puts bwrap and everything it starts inside them.
    const join = cgroup ? cgroup.procsFiles.map((f) => `echo $$ > ${f}`).join(' && ') + ' && ' : '';
    const child = spawn('/bin/sh', ['-c', `${join}exec "$@"`, 'sandbox', ...command], {
      // Nothing of the worker's environment reaches the sandbox, not even via bwrap's own /proc entry.
      env: { PATH: HOST_PATH },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
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
      hostUid: root ? hostUid : undefined,
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      exited,
      kill: async () => {
        child.kill('SIGKILL'); // --die-with-parent takes the sandbox with it
      },
      cleanup: async () => {
        await cgroup?.remove();
      },
    };
  }

  async reap(filter: ReapFilter = {}): Promise<number> {
    return reapCgroups(filter.ownerPid);
  }
}

function bwrapArguments(limits: SandboxLimits, cgroup: RunCgroup | undefined): string[] {
  // The run's own cgroups, read-only, where Docker shows a container its own: the runner watches the process
  // limit there and reports peak memory.
  const cgroups = cgroup
    ? (['memory', 'pids'] as const).flatMap((c) => ['--ro-bind', cgroup.dir(c), `/sys/fs/cgroup/${c}`])
    : [];
  const system = SYSTEM_DIRS.filter((dir) => existsSync(dir)).flatMap((dir) => ['--ro-bind', dir, dir]);
  const deps = CURATED_PACKAGES.flatMap((name) => [
    '--ro-bind',
    curatedPackageDir(name),
    `${DEPS_DIR}/node_modules/${name}`,
  ]);
  return [
    '--unshare-all',
    '--unshare-user', // --unshare-all only tries; without a user namespace --uid and --disable-userns fail
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_UID),
    '--hostname',
    'sandbox',
    ...system,
    ...deps,
    '--ro-bind',
    RUNNER_PATH,
    RUNNER_IN_SANDBOX,
    // Only what programs expect of /etc: localhost resolves, the sandbox user has a name. Nothing of the host's.
    ...['hosts', 'passwd', 'group'].flatMap((file) => ['--ro-bind', join(SANDBOX_ETC, file), `/etc/${file}`]),
    '--ro-bind',
    process.execPath,
    NODE_IN_SANDBOX,
    ...cgroups,
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    String(limits.workDirBytes),
    '--tmpfs',
    WORK_DIR,
    '--size',
    String(limits.workDirBytes),
    '--tmpfs',
    '/tmp',
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
    '--disable-userns',
    '--',
    NODE_IN_SANDBOX,
    RUNNER_IN_SANDBOX,
  ];
}
