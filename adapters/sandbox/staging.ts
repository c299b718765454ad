import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, realpath, rename, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { CURATED_PACKAGES, curatedPackageDir, RUNNER_PATH, SANDBOX_ETC } from './layout';

// The read-only inputs of a bubblewrap sandbox (runner, its /etc, the curated packages, and Node when it is
// installed somewhere private), copied once into a directory the sandbox's unprivileged host uids can read:
// a checkout may live in a private directory (CI clones into `mktemp -d`, mode 0700), which bwrap, running
// as such a uid, cannot even look into. docs/sandbox.md ("Staged inputs").

/** Where the staged inputs of one content digest are, as host paths. */
export interface StagedInputs {
  readonly dir: string;
  readonly runner: string;
  /** hosts, passwd, group */
  readonly etc: string;
  /** One directory per curated package. */
  readonly nodeModules: string;
  /** Node for the sandbox: this worker's own binary, or a staged copy when others cannot read it. */
  readonly node: string;
}

const LAYOUT_VERSION = 'qlp-staged-inputs-1';
const PARTIAL = '.partial-';
/** Partial copies of a crashed stager are removed after this long; unused stages after `STALE_MS`. */
const PARTIAL_MS = 60 * 60_000;
const STALE_MS = 7 * 24 * 60 * 60_000;
const TOUCH_EVERY_MS = 60 * 60_000;

interface Entry {
  /** Path inside the stage. */
  target: string;
  source: string;
  executable: boolean;
}

let staging: Promise<StagedInputs> | undefined;
let touchedAt = 0;

/**
 * The staged inputs for this process (staged on first use; again if something removed them). As root the
 * stage must be readable by others, since the sandbox runs as unprivileged host uids of its own.
 */
export async function stagedInputs(): Promise<StagedInputs> {
  staging ??= stage();
  staging.catch(() => (staging = undefined));
  const staged = await staging;
  if (!existsSync(staged.runner) || !existsSync(staged.node)) {
    staging = undefined; // removed behind our back (tmp cleaning): stage again
    return stagedInputs();
  }
  if (Date.now() - touchedAt > TOUCH_EVERY_MS) {
    touchedAt = Date.now();
    const now = new Date();
    await utimes(staged.dir, now, now).catch(() => undefined); // in use: not stale
  }
  return staged;
}

async function stage(): Promise<StagedInputs> {
  const root = process.getuid?.() === 0;
  const node = await realpath(process.execPath);
  // As root, bwrap runs as a uid with no rights of its own: what it binds must be readable by anyone.
  const stageNode = root && !(await readableByOthers(node, true));
  const entries = await inputEntries(stageNode ? node : undefined);
  const digest = await digestOf(entries);
  const base = await baseDir(root);
  await prune(base);
  const dir = join(base, digest.slice(0, 24));
  if (!(await isStage(dir))) await populate(base, dir, entries);
  return {
    dir,
    runner: join(dir, 'runner.cjs'),
    etc: join(dir, 'etc'),
    nodeModules: join(dir, 'node_modules'),
    node: stageNode ? join(dir, 'node') : node,
  };
}

async function inputEntries(node: string | undefined): Promise<Entry[]> {
  const entries: Entry[] = [{ target: 'runner.cjs', source: RUNNER_PATH, executable: false }];
  for (const file of (await readdir(SANDBOX_ETC)).sort()) {
    entries.push({ target: `etc/${file}`, source: join(SANDBOX_ETC, file), executable: false });
  }
  for (const name of CURATED_PACKAGES) {
    entries.push(...(await walk(curatedPackageDir(name), `node_modules/${name}`)));
  }
  if (node) entries.push({ target: 'node', source: node, executable: true });
  return entries;
}

/** Every file under `dir`, symlinks followed, in a stable order. */
async function walk(dir: string, target: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const source = join(dir, name);
    const info = await stat(source);
    if (info.isDirectory()) entries.push(...(await walk(source, `${target}/${name}`)));
    else if (info.isFile())
      entries.push({ target: `${target}/${name}`, source, executable: (info.mode & 0o111) !== 0 });
  }
  return entries;
}

/** Content digest of the stage: every path, whether it is executable, and its bytes. */
async function digestOf(entries: Entry[]): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`${LAYOUT_VERSION}\n`);
  for (const entry of entries) {
    hash.update(`${entry.target}\0${entry.executable ? 'x' : '-'}\0`);
    for await (const chunk of createReadStream(entry.source)) hash.update(chunk as Buffer);
    hash.update('\0');
  }
  return hash.digest('hex');
}

/**
 * A directory of this user, not writable by anyone else, in a temporary directory others can reach:
 * `os.tmpdir()` unless (as root) it is private, else /tmp or /var/tmp.
 */
async function baseDir(root: boolean): Promise<string> {
  const uid = process.getuid?.() ?? 0;
  const candidates = [...new Set([tmpdir(), '/tmp', '/var/tmp'])];
  const reasons: string[] = [];
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue;
    if (root && !(await readableByOthers(candidate, false))) {
      reasons.push(`${candidate} is not searchable by other users`);
      continue;
    }
    const base = join(candidate, `qlp-sandbox-inputs-${uid}`);
    await mkdir(base, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    const info = await lstat(base);
    // Someone else's directory (or a symlink) at our name must not supply what the sandbox runs.
    if (!info.isDirectory() || info.uid !== uid || (info.mode & 0o022) !== 0) {
      reasons.push(`${base} is not a directory of uid ${uid} that only it can write: remove it`);
      continue;
    }
    if ((info.mode & 0o755) !== 0o755) await chmod(base, 0o755);
    return base;
  }
  throw new Error(`no directory to stage the sandbox's inputs in (${reasons.join('; ')})`);
}

async function isStage(dir: string): Promise<boolean> {
  try {
    return (await lstat(dir)).isDirectory();
  } catch {
    return false;
  }
}

/** Copies into a private partial directory, then renames it into place: a stage is complete or absent. */
async function populate(base: string, dir: string, entries: Entry[]): Promise<void> {
  const partial = join(base, `${PARTIAL}${process.pid}-${randomBytes(6).toString('hex')}`);
  await mkdir(partial, { mode: 0o700 });
  try {
    const made = new Set<string>();
    for (const entry of entries) {
      const target = join(partial, ...entry.target.split('/'));
      const parent = dirname(target);
      if (!made.has(parent)) {
        await mkdir(parent, { recursive: true, mode: 0o755 });
        for (let d = parent; d.length > partial.length && !made.has(d); d = dirname(d)) {
          await chmod(d, 0o755); // whatever the umask
          made.add(d);
        }
      }
      await copyFile(entry.source, target);
      await chmod(target, entry.executable ? 0o755 : 0o644);
    }
    await chmod(partial, 0o755);
    await rename(partial, dir).catch(async (error: NodeJS.ErrnoException) => {
      // Another process staged the same digest first: theirs is identical.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/** Removes partial copies of crashed stagers, and stages nobody has used for a week. */
async function prune(base: string): Promise<void> {
  for (const name of await readdir(base).catch(() => [] as string[])) {
    const path = join(base, name);
    const info = await lstat(path).catch(() => undefined);
    if (!info) continue;
    const age = Date.now() - info.mtimeMs;
    if ((name.startsWith(PARTIAL) && age > PARTIAL_MS) || (!name.startsWith(PARTIAL) && age > STALE_MS)) {
      await rm(path, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/** Whether a user with no rights of its own can reach `path` (every parent searchable) and read it. */
export async function readableByOthers(path: string, executable: boolean): Promise<boolean> {
  try {
    const real = await realpath(path);
    const parts = real.split(sep).filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const dir = sep + parts.slice(0, i).join(sep);
      if (((await stat(dir)).mode & 0o001) === 0) return false;
    }
    const info = await stat(real);
    const need = info.isDirectory() ? 0o005 : executable ? 0o005 : 0o004;
    return (info.mode & need) === need;
  } catch {
    return false;
  }
}
