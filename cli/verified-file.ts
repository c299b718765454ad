import { constants } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { link, lstat, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError } from './errors';

// Writing a download safely: into a temp file only this process created (O_EXCL, O_NOFOLLOW, a random
// name in the target's own directory), hashed while streaming, and given its real name only once verified,
// never over an existing file unless asked. A planted file or symlink is never written through.

export interface Expected {
  /** The sha256 the server (and the intent's capsule record) advertised; the file is refused when it differs. */
  sha256: string;
  /** Bytes the server announced, when it did. */
  bytes?: number;
}

export interface Saved {
  path: string;
  bytes: number;
  sha256: string;
}

/** Throws when `target` exists (as anything, a dangling symlink included) and may not be replaced. */
export async function refuseExisting(target: string, force: boolean): Promise<void> {
  const existing = await lstat(target).catch(() => undefined);
  if (!existing) return;
  if (!force) throw new CliError(`${target} already exists; nothing was downloaded (use --force to replace it)`);
  if (existing.isDirectory()) throw new CliError(`${target} is a directory; nothing was downloaded`);
}

export async function saveVerified(source: Readable, target: string, expected: Expected, force: boolean) {
  const temp = join(dirname(target), `.qlp-download-${randomBytes(12).toString('hex')}.tmp`);
  // O_EXCL: fails on anything already there, a planted symlink included; O_NOFOLLOW for good measure.
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const file = await open(temp, flags, 0o600);
  const removeTemp = () => rm(temp, { force: true });
  const onInterrupt = () => {
    void removeTemp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onInterrupt);
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    try {
      await pipeline(source, meter, file.createWriteStream());
    } catch (error) {
      throw new CliError(`download failed after ${bytes} bytes: ${(error as Error).message}; nothing was saved`);
    }
    const sha256 = hash.digest('hex');
    if (expected.bytes !== undefined && expected.bytes !== bytes) {
      throw new CliError(`download incomplete: received ${bytes} of ${expected.bytes} bytes; nothing was saved`);
    }
    if (expected.sha256 !== sha256) {
      throw new CliError(
        `checksum mismatch: the API announced sha256 ${expected.sha256} but the download hashes to ${sha256}; nothing was saved`,
      );
    }
    await placeFile(temp, target, force);
    return { path: target, bytes, sha256 } satisfies Saved;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    await file.close().catch(() => undefined);
    await removeTemp();
  }
}

/** The verified temp file gets its name: a hard link fails on any existing name (never overwrites); rename replaces only with --force. */
async function placeFile(temp: string, target: string, force: boolean): Promise<void> {
  if (force) {
    await refuseExisting(target, true);
    return rename(temp, target);
  }
  try {
    await link(temp, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') await refuseExisting(target, false);
    throw error;
  }
}
