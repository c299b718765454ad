import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import type { LimitHit, SandboxLimits } from '../../contracts/sandbox';
import { buildLocalImage, localImageTag } from './docker-image';
import { OWNER, ownerIsDead, type ReapFilter, type SandboxDriver, type SandboxProcess } from './driver';
import { holdLease, leaseState, pruneDeadLeases } from './worker-lease';
import { DEPS_DIR, RUNNER_IN_SANDBOX, RUNNER_UID, SANDBOX_UID, WORK_DIR } from './layout';

const LABEL = 'dev.quantumlayer.sandbox';
const PING_TIMEOUT_MS = 5_000;
/** The runner's only capabilities: start the steps as SANDBOX_UID, end them, hand them the project. */
const RUNNER_CAPS = ['SETUID', 'SETGID', 'KILL', 'CHOWN'];

export interface DockerSandboxOptions {
  /** A standard image with the sandbox layout (deploy/sandbox.Dockerfile); default: built locally, offline. */
  image?: string;
  /** Docker engine socket; default: DOCKER_HOST or /var/run/docker.sock. */
  socketPath?: string;
  /** Leftovers older than this are removed by any worker's reaper, unless their own worker is shown to live. */
  maxLifetimeMs?: number;
}

/**
 * Docker via dockerode: no network, read-only root, size-limited tmpfs work dir, every capability dropped
 * but the runner's four, no-new-privileges, the default seccomp profile, the project's steps as a non-root
 * user (the runner as the container's root, so they cannot reach it), tini as init, pids, memory (no swap),
 * CPU and ulimits, no log driver (output never reaches the engine's disk). Always removed afterwards.
 */
export class DockerSandbox implements SandboxDriver {
  readonly name = 'docker' as const;
  private readonly docker: Docker;
  private image: Promise<string> | undefined;

  constructor(private readonly options: DockerSandboxOptions = {}) {
    this.docker = new Docker(options.socketPath ? { socketPath: options.socketPath } : undefined);
  }

  async unavailable(): Promise<string | undefined> {
    try {
      // A socket that accepts but never answers must not hang a worker's start.
      await Promise.race([
        this.docker.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('no answer in 5 s')), PING_TIMEOUT_MS).unref()),
      ]);
    } catch (error) {
      return `no Docker engine answers (${(error as Error).message})`;
    }
    if (this.options.image && !(await this.hasImage(this.options.image))) {
      return `the sandbox image ${this.options.image} is not present (build it from deploy/sandbox.Dockerfile)`;
    }
    return undefined;
  }

  /** The image to run: the configured one, or the local one, built once when missing. */
  private ensureImage(): Promise<string> {
    this.image ??= (async () => {
      if (this.options.image) return this.options.image;
      const tag = await localImageTag();
      if (!(await this.hasImage(tag))) await buildLocalImage(this.docker, tag);
      return tag;
    })();
    this.image.catch(() => (this.image = undefined));
    return this.image;
  }

  private async hasImage(tag: string): Promise<boolean> {
    return this.docker
      .getImage(tag)
      .inspect()
      .then(() => true)
      .catch(() => false);
  }

  async launch(limits: SandboxLimits): Promise<SandboxProcess> {
    const image = await this.ensureImage();
    await holdLease(); // before the container exists: it is never without a worker that can be shown to live
    // Writable by the steps (the sandbox user), and by the runner, which creates the project there.
    const tmpfs = (bytes: number) =>
      `rw,noexec,nosuid,nodev,size=${bytes},mode=1777,uid=${SANDBOX_UID},gid=${SANDBOX_UID}`;
    const container = await this.docker.createContainer({
      Image: image,
      Cmd: ['node', RUNNER_IN_SANDBOX],
      // The runner: root of the container with RUNNER_CAPS only; it starts every step as SANDBOX_UID.
      User: `${RUNNER_UID}:${RUNNER_UID}`,
      WorkingDir: WORK_DIR,
      Env: [
        'PATH=/usr/local/bin:/usr/bin:/bin',
        `HOME=${WORK_DIR}`,
        `QLP_WORK_DIR=${WORK_DIR}`,
        `QLP_DEPS_DIR=${DEPS_DIR}`,
      ],
      Labels: {
        [LABEL]: 'true',
        [`${LABEL}.host`]: OWNER.host,
        [`${LABEL}.pid`]: String(OWNER.pid),
        [`${LABEL}.worker`]: OWNER.workerId,
      },
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      NetworkDisabled: true,
      HostConfig: {
        NetworkMode: 'none',
        ReadonlyRootfs: true,
        Tmpfs: { [WORK_DIR]: tmpfs(limits.workDirBytes), '/tmp': tmpfs(limits.workDirBytes) },
        CapDrop: ['ALL'],
        CapAdd: RUNNER_CAPS,
        SecurityOpt: ['no-new-privileges'],
        Init: true,
        PidsLimit: limits.pids,
        Memory: limits.memoryBytes,
        MemorySwap: limits.memoryBytes,
        NanoCpus: Math.round(limits.cpus * 1e9),
        Ulimits: [
          { Name: 'nofile', Soft: limits.openFiles, Hard: limits.openFiles },
          { Name: 'fsize', Soft: limits.fileSizeBytes, Hard: limits.fileSizeBytes },
          { Name: 'cpu', Soft: limits.cpuSeconds, Hard: limits.cpuSeconds },
          { Name: 'core', Soft: 0, Hard: 0 },
        ],
        LogConfig: { Type: 'none', Config: {} },
        AutoRemove: false,
      },
    });
    const remove = async () => {
      await container.remove({ force: true, v: true }).catch((error: { statusCode?: number }) => {
        // 404: already gone; 409: removal already in progress.
        if (error.statusCode !== 404 && error.statusCode !== 409) throw error;
      });
    };
    try {
      const stream = await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      container.modem.demuxStream(stream, stdout, stderr);
      stream.on('end', () => {
        stdout.end();
        stderr.end();
      });
      const stdin = new PassThrough();
      stdin.on('data', (chunk: Buffer) => stream.write(chunk));
      // Half-close: with StdinOnce the runner sees end of input while its output keeps flowing.
      stdin.on('end', () => (stream as unknown as { end(): void }).end());
      await container.start();
      const exited = container.wait().then(async (status: { StatusCode: number }) => {
        const state = (await container.inspect()).State;
        const hits: LimitHit[] = state.OOMKilled
          ? [{ limit: 'memory', detail: `the kernel killed the run at its ${limits.memoryBytes}-byte memory limit` }]
          : [];
        return { exitCode: status.StatusCode, hits };
      });
      return {
        id: container.id,
        stepUid: SANDBOX_UID,
        stdin,
        stdout,
        stderr,
        exited,
        kill: async () => {
          await container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
        },
        cleanup: remove,
      };
    } catch (error) {
      await remove();
      throw error;
    }
  }

  /**
   * Removes labelled containers whose worker is provably dead (its lease, on this host), and any older than
   * the maximum lifetime whose worker is not shown to be alive (another host's, or one without a lease here).
   */
  async reap(filter: ReapFilter = {}): Promise<number> {
    const label = filter.ownerPid === undefined ? LABEL : `${LABEL}.pid=${filter.ownerPid}`;
    const containers = await this.docker.listContainers({ all: true, filters: { label: [label] } });
    const maxLifetimeMs = this.options.maxLifetimeMs ?? 60 * 60_000;
    const leftovers: typeof containers = [];
    for (const c of containers) {
      const workerId = c.Labels[`${LABEL}.worker`];
      const pid = Number(c.Labels[`${LABEL}.pid`]);
      // Before worker ids, the host label was HOSTNAME's: such a container is judged by its pid, as then.
      const legacyHere = !workerId && c.Labels[`${LABEL}.host`] === (process.env.HOSTNAME ?? 'localhost');
      const dead = workerId ? await ownerIsDead({ workerId, pid }) : legacyHere && (await ownerIsDead({ pid }));
      const alive = workerId !== undefined && (await leaseState(workerId)) === 'alive';
      if (dead || (!alive && Date.now() - c.Created * 1000 > maxLifetimeMs)) leftovers.push(c);
    }
    for (const leftover of leftovers) {
      await this.docker
        .getContainer(leftover.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    }
    await pruneDeadLeases();
    return leftovers.length;
  }

  /** Labelled containers that exist now (tests and health checks); `ownerPid`: only those of that worker. */
  async count(filter: { ownerPid?: number } = {}): Promise<number> {
    const label = filter.ownerPid === undefined ? LABEL : `${LABEL}.pid=${filter.ownerPid}`;
    return (await this.docker.listContainers({ all: true, filters: { label: [label] } })).length;
  }
}
