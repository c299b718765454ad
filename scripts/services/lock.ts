import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { isProcessAlive } from './process';
import { sleep } from './wait';

/**
 * Runs fn while holding an exclusive lock file (created with O_EXCL, holding our pid), so two
 * concurrent `up`s never install tools or start the same server twice. A lock left by a dead
 * process is taken over.
 */
export async function withLockFile<T>(lockFile: string, fn: () => Promise<T>, timeoutMs = 300_000): Promise<T> {
  mkdirSync(dirname(lockFile), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (tryCreateLock(lockFile)) break;
    const holder = readHolder(lockFile);
    if (holder !== undefined && !isProcessAlive(holder)) {
      rmSync(lockFile, { force: true }); // stale: its owner died without cleaning up
      continue;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out waiting for ${lockFile} (held by pid ${holder ?? 'unknown'}); remove it if no other "up" is running`,
      );
    }
    await sleep(200);
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

function tryCreateLock(lockFile: string): boolean {
  try {
    const fd = openSync(lockFile, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function readHolder(lockFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(lockFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // removed between our open and read
  }
}
