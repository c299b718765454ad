import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { create as createTar, extract as extractTar, Parser, type ReadEntry } from 'tar';
import { deterministicTarGz, tarOf } from '../../capsule/archive';
import { readArchive } from '../../capsule/archive-reader';

// capsule/archive.ts: the same bytes for the same input, entries in the given order, regular files only
// with mtime 0 and no owner, and archives both the `tar` package and the system's tar read back whole:
// long paths (pax), non-ASCII names, empty files.

const run = promisify(execFile);
const longDir = `files/${'deeply-nested-directory/'.repeat(40)}`;
const longPath = `${longDir}${'l'.repeat(30)}.ts`; // ~1000 characters: ustar holds 255 at most
const contents = new Map<string, Buffer>([
  ['capsule.json', Buffer.from('{"format":"quantumcapsule/v2"}\n')],
  ['files/src/app.ts', Buffer.from('export const answer = 42;\n')],
  [`files/${'a'.repeat(90)}/${'b'.repeat(40)}.ts`, Buffer.from('// over 100 characters: ustar prefix\n')],
  [`files/${'n'.repeat(120)}.json`, Buffer.from('{"name":"a name ustar cannot split"}\n')],
  [longPath, Buffer.from('// a path only a pax header can hold\n')],
  ['files/docs/café-naïve-日本語.md', Buffer.from('# non-ASCII name\n')],
  ['files/empty.txt', Buffer.alloc(0)],
  ['files/block.bin', Buffer.alloc(512, 7)], // exactly one block: no padding
  ['reports/validation.json', Buffer.from('{"status":"passed"}\n')],
]);
// Not sorted, not the map's order: the archive follows `order`.
const order = [
  'capsule.json',
  'reports/validation.json',
  ...[...contents.keys()].filter((p) => p !== 'capsule.json' && p !== 'reports/validation.json').reverse(),
];

let work: string;
let archive: Buffer;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'qlp-archive-test-'));
  archive = await deterministicTarGz(contents, order);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Listed = Pick<ReadEntry, 'path' | 'type' | 'size' | 'mode' | 'mtime' | 'uid' | 'gid' | 'uname' | 'gname'>;

/** Every header as the `tar` package's parser reads it. */
function listEntries(tarGz: Buffer): Promise<Listed[]> {
  return new Promise((resolve, reject) => {
    const listed: Listed[] = [];
    const parser = new Parser({ strict: true });
    parser.on('entry', (entry: ReadEntry) => {
      const { path, type, size, mode, mtime, uid, gid, uname, gname } = entry;
      listed.push({ path, type, size, mode, mtime, uid, gid, uname, gname });
      entry.resume();
    });
    parser.on('error', reject);
    parser.on('end', () => resolve(listed));
    parser.end(tarGz);
  });
}

function expectExtracted(dir: string): void {
  for (const [path, content] of contents) expect(readFileSync(join(dir, path))).toEqual(content);
}

describe('deterministicTarGz', () => {
  it('gives byte-identical archives for the same input, whatever the map was filled in', async () => {
    const again = await deterministicTarGz(new Map([...contents].reverse()), order);
    expect(again.equals(archive)).toBe(true);
    expect(archive.readUInt32LE(4)).toBe(0); // the gzip header's mtime too
  });

  it('writes the entries in the given order, regular files of mode 0644 with mtime 0 and no owner', async () => {
    const listed = await listEntries(archive);
    expect(listed.map((e) => e.path)).toEqual(order);
    for (const entry of listed) {
      expect(entry.type).toBe('File');
      expect(entry.size).toBe(contents.get(entry.path)!.length);
      expect(entry.mode).toBe(0o644);
      expect(entry.mtime?.getTime()).toBe(0);
      expect(entry.uname ?? '').toBe('');
      expect(entry.gname ?? '').toBe('');
      expect(entry.uid ?? 0).toBe(0);
      expect(entry.gid ?? 0).toBe(0);
    }
  });

  it("writes the tar stream byte for byte as the `tar` package's portable mode does from disk", async () => {
    const dir = join(work, 'reference');
    for (const [path, content] of contents) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
      chmodSync(join(dir, path), 0o644);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of createTar({ cwd: dir, portable: true, mtime: new Date(0) }, order))
      chunks.push(chunk as Buffer);
    expect(gunzipSync(archive).equals(Buffer.concat(chunks))).toBe(true);
    expect(tarOf(contents, order).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('round-trips through the `tar` package: long paths, non-ASCII names, empty files', async () => {
    const file = join(work, 'npm-tar.tar.gz');
    writeFileSync(file, archive);
    const dir = join(work, 'npm-tar');
    mkdirSync(dir);
    await extractTar({ file, cwd: dir, strict: true });
    expectExtracted(dir);
  });

  it("round-trips through the system's tar, which lists regular files of root, dated 1970", async () => {
    const file = join(work, 'system-tar.tar.gz');
    writeFileSync(file, archive);
    const dir = join(work, 'system-tar');
    mkdirSync(dir);
    const env = { ...process.env, LC_ALL: 'C.UTF-8' };
    await run('tar', ['-xzf', file, '-C', dir], { env });
    expectExtracted(dir);

    const { stdout } = await run('tar', ['-tzvf', file], { env, maxBuffer: 1024 * 1024 });
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(order.length);
    lines.forEach((line, i) => {
      expect(line).toMatch(/^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00 /);
      expect(line.endsWith(` ${order[i]}`)).toBe(true);
    });
  });

  it('reads back whole through our own reader (archive-reader.ts)', async () => {
    const entries = await readArchive(archive);
    expect(entries.map((e) => e.path)).toEqual(order);
    for (const entry of entries) expect(entry.content).toEqual(contents.get(entry.path));
  });

  it('refuses what no capsule may hold: unsafe paths, duplicates, a file that is also a directory, missing content', async () => {
    const refuse = (paths: string[]) => deterministicTarGz(new Map(paths.map((p) => [p, Buffer.from('x')])), paths);
    await expect(refuse(['files/../../etc/passwd'])).rejects.toThrow(/".." segment/);
    await expect(refuse(['/etc/passwd'])).rejects.toThrow(/absolute/);
    await expect(refuse(['files/a', 'files/a'])).rejects.toThrow(/listed twice/);
    await expect(refuse(['docs/api.md', 'docs/api.md/index.md'])).rejects.toThrow(/both a file and a directory/);
    await expect(deterministicTarGz(new Map(), ['capsule.json'])).rejects.toThrow(/no content/);
  });
});
