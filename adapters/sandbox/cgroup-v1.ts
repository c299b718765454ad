import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LimitHit } from '../../contracts/sandbox';
import { OWNER, ownerIsDead } from './driver';
import { pruneDeadLeases } from './worker-lease';

// Per-run cgroups (v1 memory and pids hierarchies) for the bubblewrap driver, when this process may create
// them (root on a cgroup v1 host). They cap memory and processes of the whole run, not one process, and
// count what the run used. Without them the driver falls back to per-process rlimits (docs/sandbox.md).

const ROOT = '/sys/fs/cgroup';
const GROUP = 'qlp-sandbox';
const CONTROLLERS = ['memory', 'pids'] as const;
/** `<worker pid>-<worker id>-<random>`; cgroups made before worker ids lack the middle part. */
const RUN_NAME = /^(\d+)-(?:([0-9a-f]{16})-)?[a-z0-9]+$/;

const dirOf = (controller: string, name: string) => join(ROOT, controller, GROUP, name);

export async function cgroupsUsable(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  if (!CONTROLLERS.every((c) => existsSync(join(ROOT, c, 'cgroup.procs')))) return false;
  try {
    for (const c of CONTROLLERS) await mkdir(join(ROOT, c, GROUP), { recursive: true });
    return true;
  } catch {
    return false;
  }
}

export class RunCgroup {
  readonly name = `${OWNER.pid}-${OWNER.workerId}-${Math.random().toString(36).slice(2, 10)}`;

  /** This run's directory of a controller's hierarchy. */
  dir(controller: (typeof CONTROLLERS)[number]): string {
    return dirOf(controller, this.name);
  }

  /** The files a launcher writes its own pid to, so everything it starts is inside. */
  get procsFiles(): string[] {
    return CONTROLLERS.map((c) => join(dirOf(c, this.name), 'cgroup.procs'));
  }

  async create(memoryBytes: number, pids: number): Promise<void> {
    for (const c of CONTROLLERS) await mkdir(dirOf(c, this.name));
    const memory = dirOf('memory', this.name);
    await writeFile(join(memory, 'memory.limit_in_bytes'), String(memoryBytes));
    // With swap accounting, swap counts too: the limit is memory without swap.
    await writeFile(join(memory, 'memory.memsw.limit_in_bytes'), String(memoryBytes)).catch(() => undefined);
    await writeFile(join(dirOf('pids', this.name), 'pids.max'), String(pids));
  }

  async limitHits(): Promise<LimitHit[]> {
    const hits: LimitHit[] = [];
    const oom = await read(join(dirOf('memory', this.name), 'memory.oom_control'));
    const oomKills = Number(/oom_kill (\d+)/.exec(oom)?.[1] ?? 0);
    if (oomKills > 0)
      hits.push({ limit: 'memory', detail: `the kernel killed ${oomKills} process(es) at the memory limit` });
    const pidsEvents = await read(join(dirOf('pids', this.name), 'pids.events'));
    const refused = Number(/max (\d+)/.exec(pidsEvents)?.[1] ?? 0);
    if (refused > 0)
      hits.push({ limit: 'pids', detail: `${refused} process or thread creations refused at the limit` });
    return hits;
  }

  async peakMemoryBytes(): Promise<number | undefined> {
    const value = Number(await read(join(dirOf('memory', this.name), 'memory.max_usage_in_bytes')));
    return Number.isFinite(value) && value > 0 ? value : undefined;
  }

  /** Kills whatever is still inside, then removes the cgroups. */
  async remove(): Promise<void> {
    await removeGroup(this.name);
  }
}

async function read(file: string): Promise<string> {
  return readFile(file, 'utf8').catch(() => '');
}

async function removeGroup(name: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    let left = 0;
    for (const c of CONTROLLERS) {
      const dir = dirOf(c, name);
      if (!existsSync(dir)) continue;
      const pids = (await read(join(dir, 'cgroup.procs'))).split('\n').filter(Boolean).map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await rmdir(dir).catch(() => left++);
    }
    if (left === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Removes cgroups of runs whose worker is provably dead (only `ownerPid`'s when given); returns how many. */
export async function reapCgroups(ownerPid?: number): Promise<number> {
  const names = new Set<string>();
  for (const c of CONTROLLERS) {
    const entries = await readdir(join(ROOT, c, GROUP), { withFileTypes: true }).catch(() => []);
    // Runs' cgroups only (`<worker pid>-<id>` directories), not the control files beside them.
    for (const entry of entries) if (entry.isDirectory() && RUN_NAME.test(entry.name)) names.add(entry.name);
  }
  let reaped = 0;
  for (const name of names) {
    const [, pidText, workerId] = RUN_NAME.exec(name)!;
    const pid = Number(pidText);
    if (ownerPid !== undefined && pid !== ownerPid) continue;
    if (!(await ownerIsDead({ workerId, pid }))) continue;
    await removeGroup(name);
    reaped++;
  }
  await pruneDeadLeases();
  return reaped;
}
