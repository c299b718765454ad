import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { unsafePathReason } from './archive-reader';

// Writing a verified capsule out: only entries a verification passed, only regular files created anew
// ('wx' and O_NOFOLLOW), into a directory that is new or empty, never through a symlinked parent.

const verified = new WeakSet<ReadonlyMap<string, Buffer>>();

/** Records that `entries` passed verification (verified, or unsigned with its digests holding). */
export function markVerified(entries: ReadonlyMap<string, Buffer>): void {
  verified.add(entries);
}

/** Writes `entries` under `targetDir` (created 0700 when missing, else it must be an empty directory); returns the paths written. */
export async function extractVerified(entries: Map<string, Buffer>, targetDir: string): Promise<string[]> {
  if (!verified.has(entries)) throw new Error('only the entries of a capsule that passed verification are extracted');
  const root = resolve(targetDir);
  await prepareTarget(root);
  const written: string[] = [];
  for (const [path, content] of entries) {
    // Checked again: the map is the caller's, and a path is about to become a file.
    const unsafe = unsafePathReason(path);
    if (unsafe) throw new Error(`refusing to write ${JSON.stringify(path)}: its path ${unsafe}`);
    const segments = path.split('/');
    let dir = root;
    for (const segment of segments.slice(0, -1)) {
      dir = join(dir, segment);
      await ensureDirectory(dir);
    }
    const target = join(root, ...segments);
    const file = await open(
      target,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o644,
    );
    try {
      await file.writeFile(content);
    } finally {
      await file.close();
    }
    written.push(target);
  }
  return written;
}

async function prepareTarget(root: string): Promise<void> {
  const existing = await lstat(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!existing) {
    await mkdir(root, { recursive: true, mode: 0o700 });
    return;
  }
  if (!existing.isDirectory()) throw new Error(`${root} exists and is not a directory`);
  if ((await readdir(root)).length > 0) throw new Error(`${root} is not empty: extract into a new or empty directory`);
}

/** A directory we may write into: created here, or already one (not a symlink to one). */
async function ensureDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, 0o755);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stat = await lstat(dir);
  if (!stat.isDirectory()) throw new Error(`refusing to write under ${dir}: it is not a directory (a symlink?)`);
}
