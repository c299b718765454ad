import { createGunzip } from 'node:zlib';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';

// Reading an untrusted capsule: entirely in memory (nothing touches the filesystem), regular files with
// plain relative paths only, and every size bounded, so a hostile archive can neither escape nor exhaust.

export interface ArchiveLimits {
  /** Bytes of the .tar.gz itself. */
  maxCompressedBytes: number;
  /** Bytes of the tar stream once inflated (headers included): what stops a gzip bomb. */
  maxUnpackedBytes: number;
  maxEntries: number;
  maxEntryBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxCompressedBytes: 256 * 1024 * 1024,
  maxUnpackedBytes: 256 * 1024 * 1024,
  maxEntries: 10_000,
  maxEntryBytes: 64 * 1024 * 1024,
};

export interface ArchiveEntry {
  path: string;
  content: Buffer;
}

export type ArchiveFault = 'unsafe-path' | 'not-a-file' | 'duplicate' | 'too-large' | 'corrupt';

/** Why an archive was refused; `entry` names the offending entry when one is at fault. */
export class ArchiveError extends Error {
  constructor(
    message: string,
    readonly fault: ArchiveFault,
    readonly entry?: string,
    /** Inflated bytes read when reading stopped: a bomb is refused without being inflated whole. */
    public unpackedBytes?: number,
  ) {
    super(message);
    this.name = 'ArchiveError';
  }
}

/** Compressed input is fed in slices this size, so one write inflates at most ~1000× it before the limit is seen. */
const SLICE_BYTES = 16 * 1024;
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
/** After tar's end-of-archive blocks, room for an archiver's padding to its record size, and no more. */
const MAX_TRAILING_BYTES = 64 * 1024;

/** Why `path` is not a plain relative path of regular segments, or undefined when it is. */
export function unsafePathReason(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.startsWith('/')) return 'is absolute';
  if (path.includes('\\')) return 'contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains a control character';
  for (const segment of path.split('/')) {
    if (segment === '') return 'has an empty segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
  }
  return undefined;
}

/** The entries of a .tar.gz, in archive order; throws ArchiveError for anything but safe regular files within `limits`. */
export async function readArchive(
  archive: Buffer | NodeJS.ReadableStream,
  limits: Partial<ArchiveLimits> = {},
): Promise<ArchiveEntry[]> {
  const bounds = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  const collector = new EntryCollector(bounds);
  let unpacked = 0;
  let head = Buffer.alloc(0);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      // Before handing the tar stream on: tar's Parser would inflate a nested gzip without our limits.
      if (head.length < GZIP_MAGIC.length) {
        head = Buffer.concat([head, chunk.subarray(0, GZIP_MAGIC.length - head.length)]);
        if (head.equals(GZIP_MAGIC)) return done(new ArchiveError('the archive is compressed twice', 'corrupt'));
      }
      unpacked += chunk.length;
      if (unpacked > bounds.maxUnpackedBytes) {
        const message = `the archive inflates to more than ${bounds.maxUnpackedBytes} bytes`;
        return done(new ArchiveError(message, 'too-large', undefined, unpacked));
      }
      done(collector.write(chunk));
    },
    final(done) {
      done(collector.end());
    },
  });
  try {
    await pipeline(compressedSlices(archive, bounds.maxCompressedBytes), createGunzip(), sink);
  } catch (error) {
    if (error instanceof ArchiveError) {
      error.unpackedBytes ??= unpacked;
      throw error;
    }
    const message = (error as Error).message;
    throw new ArchiveError(`not a readable .tar.gz (${message})`, 'corrupt', undefined, unpacked);
  }
  return collector.entries;
}

/** The input in small slices, refused once it exceeds `max` bytes. */
async function* compressedSlices(archive: Buffer | NodeJS.ReadableStream, max: number): AsyncGenerator<Buffer> {
  const chunks: Iterable<Buffer> | AsyncIterable<Buffer | string> = Buffer.isBuffer(archive) ? [archive] : archive;
  let total = 0;
  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += bytes.length;
    if (total > max) throw new ArchiveError(`the archive is larger than ${max} bytes`, 'too-large');
    for (let at = 0; at < bytes.length; at += SLICE_BYTES) yield bytes.subarray(at, at + SLICE_BYTES);
  }
}

/** tar's Parser (strict: every malformed header is an error), keeping only what passes our rules. */
class EntryCollector {
  readonly entries: ArchiveEntry[] = [];
  private readonly parser: Parser;
  private readonly paths = new Set<string>();
  private readonly directories = new Set<string>();
  private fault: Error | undefined;
  private ended = false;
  private trailingBytes: number | undefined;
  private declaredBytes = 0;

  constructor(private readonly limits: ArchiveLimits) {
    this.parser = new Parser({ strict: true, zstd: false, brotli: false, maxMetaEntrySize: 64 * 1024 });
    this.parser.on('entry', (entry: ReadEntry) => this.accept(entry));
    this.parser.on('ignoredEntry', (entry: ReadEntry) =>
      this.refuse(`entry ${quote(entry.path)} is of a type capsules never hold`, 'not-a-file', entry.path),
    );
    this.parser.on('error', (error: Error) => this.refuse(`not a valid tar archive (${error.message})`, 'corrupt'));
    this.parser.on('end', () => (this.ended = true));
    this.parser.on('eof', () => (this.trailingBytes = 0));
  }

  write(chunk: Buffer): Error | undefined {
    if (this.trailingBytes === undefined) {
      if (!this.fault) this.parser.write(chunk);
    } else if ((this.trailingBytes += chunk.length) > MAX_TRAILING_BYTES) {
      this.refuse(`more than ${MAX_TRAILING_BYTES} bytes follow the end of the tar archive`, 'corrupt');
    }
    return this.fault;
  }

  end(): Error | undefined {
    if (!this.fault) this.parser.end();
    if (!this.fault && !this.ended) this.refuse('the tar archive ends unexpectedly', 'corrupt');
    return this.fault;
  }

  private accept(entry: ReadEntry): void {
    const path = entry.path;
    const refusal = this.refusalOf(entry);
    if (refusal || this.fault) {
      if (refusal) this.refuse(refusal.message, refusal.fault, path);
      entry.resume();
      return;
    }
    this.paths.add(path);
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) this.directories.add(segments.slice(0, i).join('/'));
    const chunks: Buffer[] = [];
    entry.on('data', (chunk: Buffer) => chunks.push(chunk));
    entry.on('end', () => this.entries.push({ path, content: Buffer.concat(chunks) }));
  }

  private refusalOf(entry: ReadEntry): { message: string; fault: ArchiveFault } | undefined {
    const path = entry.path;
    const named = `entry ${quote(path)}`;
    if (entry.type !== 'File' && entry.type !== 'OldFile')
      return { message: `${named} is a ${entry.type}, not a regular file`, fault: 'not-a-file' };
    // Extractors disagree on what a global header's `path` does (tar's Parser ignores it, others rename
    // every entry): what we verified could unpack elsewhere. Capsules never carry one.
    if (entry.globalExtended)
      return { message: `${named} follows a pax global header, which capsules never hold`, fault: 'not-a-file' };
    const unsafe = unsafePathReason(path);
    if (unsafe) return { message: `${named}: its path ${unsafe}`, fault: 'unsafe-path' };
    if (this.paths.has(path)) return { message: `${named} appears twice`, fault: 'duplicate' };
    if (this.directories.has(path) || [...ancestorsOf(path)].some((dir) => this.paths.has(dir)))
      return { message: `${named} is both a file and a directory of other entries`, fault: 'duplicate' };
    if (this.paths.size + 1 > this.limits.maxEntries)
      return { message: `the archive holds more than ${this.limits.maxEntries} entries`, fault: 'too-large' };
    if (entry.size > this.limits.maxEntryBytes)
      return { message: `${named} is larger than ${this.limits.maxEntryBytes} bytes`, fault: 'too-large' };
    this.declaredBytes += entry.size;
    if (this.declaredBytes > this.limits.maxUnpackedBytes)
      return { message: `the archive inflates to more than ${this.limits.maxUnpackedBytes} bytes`, fault: 'too-large' };
    return undefined;
  }

  private refuse(message: string, fault: ArchiveFault, entry?: string): void {
    this.fault ??= new ArchiveError(message, fault, entry);
  }
}

function* ancestorsOf(path: string): Generator<string> {
  for (let at = path.indexOf('/'); at !== -1; at = path.indexOf('/', at + 1)) yield path.slice(0, at);
}

/** Paths from the archive are hostile: quoted, so an empty or odd one is still visible. */
function quote(path: string): string {
  return JSON.stringify(path);
}
