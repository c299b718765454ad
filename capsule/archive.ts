import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Header, Pax } from 'tar';
import { unsafePathReason } from './archive-reader';

// Built in memory, as `tar` writes a file in portable mode: a ustar header (mode 0644, mtime 0, no owner)
// and a pax header before it only when ustar cannot hold the path (over 255 bytes, or not ASCII).

const BLOCK = 512;
const EPOCH = new Date(0);
const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
/** Level 1: ~3× faster than the default 6 for ~10% more bytes (bench/capsule.ts measures 1, 6 and 9). */
const GZIP_LEVEL = 1;

/**
 * A gzipped tar of `contents`, entries in `order`: portable and with a fixed mtime, so the archive
 * depends on its contents only, not on the machine or the time it was built on.
 */
export async function deterministicTarGz(contents: ReadonlyMap<string, Buffer>, order: string[]): Promise<Buffer> {
  // zlib's async API: the compression runs on libuv's thread pool, not on the event loop.
  return promisify(gzip)(tarOf(contents, order), { level: GZIP_LEVEL });
}

/** The uncompressed tar stream: each entry of `order` as a regular file, then the two zero blocks that end it. */
export function tarOf(contents: ReadonlyMap<string, Buffer>, order: string[]): Buffer {
  assertPlainFiles(order);
  const parts: Buffer[] = [];
  for (const path of order) {
    const content = contents.get(path);
    if (content === undefined) throw new Error(`no content for archive entry ${JSON.stringify(path)}`);
    const header = new Header({ path, mode: 0o644, size: content.length, mtime: EPOCH, type: 'File' });
    const block = Buffer.alloc(BLOCK);
    if (header.encode(block, 0)) parts.push(new Pax({ path, mtime: EPOCH, size: content.length }).encode());
    parts.push(block, content, Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

/** What archive-reader.ts accepts: safe relative paths, each once, none both a file and a directory of others. */
function assertPlainFiles(order: string[]): void {
  const files = new Set<string>();
  const directories = new Set<string>();
  for (const path of order) {
    const unsafe = unsafePathReason(path);
    if (unsafe) throw new Error(`archive entry ${JSON.stringify(path)}: its path ${unsafe}`);
    if (files.has(path)) throw new Error(`archive entry ${JSON.stringify(path)} is listed twice`);
    files.add(path);
    for (let at = path.indexOf('/'); at !== -1; at = path.indexOf('/', at + 1)) directories.add(path.slice(0, at));
  }
  const clash = [...directories].find((directory) => files.has(directory));
  if (clash !== undefined) throw new Error(`archive entry ${JSON.stringify(clash)} is both a file and a directory`);
}
