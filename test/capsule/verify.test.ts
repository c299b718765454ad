import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { ArchiveError, readArchive } from '../../capsule/archive-reader';
import { extractVerified, trustedKeysFrom, verifyCapsule } from '../../capsule/verify';
import { CAPSULE_PATHS, VerificationResult } from '../../contracts/capsule';
import {
  buildV1Capsule,
  buildV2Capsule,
  ephemeralSigner,
  flipByte,
  packCapsule,
  rawTarGz,
  trustedBy,
  withEntry,
  type BuiltFixture,
} from './capsule-fixture';

// capsule/verify.ts against capsules assembled by hand from the spec, and against hostile archives.

let good: BuiltFixture;
let trusted: Map<string, string>;
let base: string;

beforeAll(async () => {
  good = await buildV2Capsule();
  trusted = trustedBy(good.signer);
});
beforeEach(() => (base = mkdtempSync(join(tmpdir(), 'qlp-verify-'))));
afterEach(() => rmSync(base, { recursive: true, force: true }));

const verify = async (archive: Buffer, keys = trusted) => (await verifyCapsule(archive, { trustedKeys: keys })).result;
const failedChecks = (result: VerificationResult) => result.checks.filter((c) => !c.ok).map((c) => c.check);

describe('a v2 capsule', () => {
  test('verifies: every check of the spec holds, signed by the trusted key', async () => {
    const result = await verify(good.archive);
    expect(VerificationResult.parse(result)).toEqual(result);
    expect(result).toMatchObject({
      status: 'verified',
      format: 'quantumcapsule/v2',
      capsuleId: good.capsuleId,
      intentId: good.intentId,
      version: 1,
      signedBy: [good.signer.keyId],
      fileCount: good.contents.size - 3,
      errors: [],
    });
    expect(result.checks.map((c) => c.check)).toEqual([
      'archive',
      'manifest',
      'manifest-signature',
      'files',
      'unlisted-entries',
      'provenance-signature',
      'provenance-subject',
      'review-digest',
      'approval-digest',
    ]);
    expect(result.checks.every((c) => c.ok)).toBe(true);
  });

  test('verifies when read from a stream', async () => {
    const { result, entries } = await verifyCapsule(Readable.from([good.archive]), { trustedKeys: trusted });
    expect(result.status).toBe('verified');
    expect([...entries!.keys()]).toEqual([...good.contents.keys()]);
  });

  test.each([
    ['files/src/app.ts', ['files', 'review-digest'], 'files/src/app.ts: sha256 does not match the manifest'],
    [CAPSULE_PATHS.manifest, ['manifest-signature'], 'capsule.json: its bytes are not the payload signed in'],
    [CAPSULE_PATHS.provenance, ['files', 'provenance-signature'], 'provenance.intoto.json: sha256 does not match'],
    [CAPSULE_PATHS.approval, ['files'], 'approval.json: sha256 does not match the manifest'],
    [CAPSULE_PATHS.sbom, ['files'], 'sbom.cdx.json: sha256 does not match the manifest'],
    [CAPSULE_PATHS.complianceHtml, ['files'], 'compliance-report.html: sha256 does not match the manifest'],
    [CAPSULE_PATHS.validationReport, ['files', 'review-digest'], 'reports/validation-report.json: sha256 does not'],
  ])('one flipped byte in %s fails %j, naming the file', async (path, checks, detail) => {
    const tampered = withEntry(good.contents, path, flipByte(good.contents.get(path)!));
    const result = await verify(packCapsule(tampered));
    expect(result.status).toBe('failed');
    expect(failedChecks(result)).toEqual(checks);
    expect(result.errors[0]).toContain(detail);
    expect(result.errors.every((error) => error.includes(path) || error.startsWith('files/:'))).toBe(true);
  });

  test('one flipped byte in a signature envelope fails that signature check', async () => {
    const path = CAPSULE_PATHS.manifestSignature;
    const envelope = JSON.parse(good.contents.get(path)!.toString()) as { signatures: { sig: string }[] };
    const sig = Buffer.from(envelope.signatures[0]!.sig, 'base64');
    sig[0] = sig[0]! ^ 1;
    envelope.signatures[0]!.sig = sig.toString('base64');
    const result = await verify(packCapsule(withEntry(good.contents, path, Buffer.from(JSON.stringify(envelope)))));
    expect(failedChecks(result)).toEqual(['manifest-signature']);
    expect(result.errors).toEqual([`${path}: the signature by ${good.signer.keyId} does not match`]);
  });

  test('signatures by an untrusted key do not count: both signature checks fail naming the key that signed', async () => {
    const stranger = await buildV2Capsule({ signer: ephemeralSigner() });
    const result = await verify(stranger.archive);
    expect(result.status).toBe('failed');
    expect(result.signedBy).toEqual([]);
    expect(failedChecks(result)).toEqual(['manifest-signature', 'provenance-signature']);
    expect(result.errors[0]).toBe(`${CAPSULE_PATHS.manifestSignature}: ${stranger.signer.keyId} is not a trusted key`);
    const none = await verify(good.archive, new Map());
    expect(none.errors[0]).toBe(
      `${CAPSULE_PATHS.manifestSignature}: ${good.signer.keyId} is not a trusted key (no trusted keys were given)`,
    );
  });

  test('an entry the manifest does not list fails unlisted-entries, naming it', async () => {
    const result = await verify(packCapsule(withEntry(good.contents, 'notes.txt', Buffer.from('hi'))));
    expect(result.status).toBe('failed');
    expect(result.errors).toEqual(['notes.txt: in the archive but not listed in capsule.json']);
  });

  test('a listed entry missing from the archive fails the files check, naming it', async () => {
    const result = await verify(packCapsule(withEntry(good.contents, CAPSULE_PATHS.sbom, undefined)));
    expect(result.errors).toEqual(['sbom.cdx.json: missing from the archive']);
    const noEnvelope = await verify(
      packCapsule(withEntry(good.contents, CAPSULE_PATHS.provenanceSignature, undefined)),
    );
    expect(noEnvelope.errors).toEqual([`${CAPSULE_PATHS.provenanceSignature} is missing from the archive`]);
  });

  test('a capsule.json that is not JSON fails the manifest check, and its signature says it was altered', async () => {
    const broken = Buffer.concat([Buffer.from('x'), good.contents.get(CAPSULE_PATHS.manifest)!.subarray(1)]);
    const result = await verify(packCapsule(withEntry(good.contents, CAPSULE_PATHS.manifest, broken)));
    expect(result).toMatchObject({ status: 'failed', format: null, capsuleId: null, fileCount: 0 });
    expect(result.checks.map((c) => [c.check, c.ok])).toEqual([
      ['archive', true],
      ['manifest', false],
      ['manifest-signature', false],
    ]);
    expect(result.errors[0]).toMatch(/^capsule\.json: not valid JSON/);
    expect(result.errors[1]).toBe(
      `capsule.json: its bytes are not the payload signed in ${CAPSULE_PATHS.manifestSignature}`,
    );
  });

  test('a signed statement whose subject leaves out a file fails provenance-subject', async () => {
    const partial = await buildV2Capsule({ signer: good.signer, omitFromSubject: CAPSULE_PATHS.sbom });
    const result = await verify(partial.archive);
    expect(result.errors).toEqual(['provenance.intoto.json: subject lacks sbom.cdx.json']);
  });

  test('an approval bound to another digest than the review fails approval-digest', async () => {
    const other = await buildV2Capsule({ signer: good.signer, approvalDigest: 'ab'.repeat(32) });
    const result = await verify(other.archive);
    expect(failedChecks(result)).toEqual(['approval-digest']);
    expect(result.errors[0]).toMatch(/^approval\.json: digest abab\S+ is not review\.review [0-9a-f]{64}$/);
  });
});

describe('a v1 capsule', () => {
  test('is unsigned when its digests hold, failed when they do not', async () => {
    const v1 = buildV1Capsule();
    const result = await verify(v1.archive);
    expect(result).toMatchObject({ status: 'unsigned', format: 'quantumcapsule/v1', signedBy: [], errors: [] });
    expect(result.checks.map((c) => c.check)).toEqual(['archive', 'manifest', 'files', 'unlisted-entries']);
    const tampered = withEntry(v1.contents, 'files/src/app.ts', flipByte(v1.contents.get('files/src/app.ts')!));
    const failed = await verify(packCapsule(tampered));
    expect(failed.status).toBe('failed');
    expect(failed.errors).toEqual(['files/src/app.ts: sha256 does not match the manifest']);
  });
});

/** `head`, then 300 MB of zeros, gzipped as a stream (a few hundred KB), without holding the zeros in memory. */
async function gzipBomb(head: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  const zeros = Buffer.alloc(1024 * 1024);
  const chunks: Buffer[] = [];
  const gzip = createGzip({ level: 9 });
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  gzip.write(head);
  for (let i = 0; i < 300; i++) if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once('drain', resolve));
  gzip.end();
  await done;
  return Buffer.concat(chunks);
}

/** A tar header announcing a 300 MB file. */
function bigFileHeader(): Buffer {
  const block = Buffer.alloc(512);
  new Header({ path: 'files/big.bin', type: 'File', size: 300 * 1024 * 1024, mode: 0o644, mtime: new Date(0) }).encode(
    block,
    0,
  );
  return block;
}

test('readArchive returns every regular file in archive order, empty ones included', async () => {
  const entries = [
    { path: 'z.txt', content: Buffer.alloc(0) },
    { path: 'files/a/b.ts', content: Buffer.from('b') },
    { path: 'a.txt', content: Buffer.alloc(0) },
  ];
  expect(await readArchive(rawTarGz(entries))).toEqual(entries);
});

describe('hostile archives are refused by the archive check', () => {
  const file = (path: string) => ({ path, content: Buffer.from('x') });
  test.each([
    ['a `..` segment', [file('capsule.json'), file('../x')], '"../x": its path has a ".." segment'],
    ['an absolute path', [file('/etc/x')], '"/etc/x": its path is absolute'],
    ['a backslash', [file('files\\x')], 'its path contains a backslash'],
    ['an empty segment', [file('files//x')], '"files//x": its path has an empty segment'],
    [
      'a symlink',
      [{ path: 'files/x', type: 'SymbolicLink' as const, linkpath: '/etc/passwd' }],
      '"files/x" is a SymbolicLink',
    ],
    ['a hard link', [{ path: 'files/x', type: 'Link' as const, linkpath: 'capsule.json' }], '"files/x" is a Link'],
    ['a directory', [{ path: 'files/', type: 'Directory' as const }], 'is a Directory, not a regular file'],
    ['a fifo', [{ path: 'files/x', type: 'FIFO' as const }], '"files/x" is a FIFO'],
    ['duplicate paths', [file('capsule.json'), file('capsule.json')], '"capsule.json" appears twice'],
    ['a file that is also a directory', [file('files'), file('files/x')], 'both a file and a directory'],
  ])('%s', async (_name, entries, detail) => {
    const { result, entries: read } = await verifyCapsule(rawTarGz(entries), { trustedKeys: trusted });
    expect(read).toBeNull();
    expect(result.status).toBe('failed');
    expect(result.checks).toEqual([{ check: 'archive', ok: false, detail: expect.stringContaining(detail) }]);
    expect(result.errors).toEqual([result.checks[0]!.detail]);
  });

  test('a gzip bomb of zeros stops at the limit, without inflating the rest', async () => {
    const bomb = await gzipBomb();
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const limit = 32 * 1024;
    const error = await readArchive(bomb, { maxUnpackedBytes: limit }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveError);
    expect((error as ArchiveError).message).toBe(`the archive inflates to more than ${limit} bytes`);
    // Stopped within one slice of the limit: 300 MB were never inflated.
    expect((error as ArchiveError).unpackedBytes).toBeLessThan(2 * limit);
    // With the default limits, what follows tar's end-of-archive blocks is bounded too.
    const result = await verify(bomb);
    expect(result.errors).toEqual(['more than 65536 bytes follow the end of the tar archive']);
  });

  test('a 300 MB entry is refused from its header, before its body is inflated', async () => {
    const bomb = await gzipBomb(bigFileHeader());
    const error = await readArchive(bomb, { maxUnpackedBytes: 1024 * 1024, maxEntryBytes: 2 ** 40 }).catch(
      (e: unknown) => e,
    );
    expect((error as ArchiveError).message).toBe('the archive inflates to more than 1048576 bytes');
    expect((error as ArchiveError).entry).toBe('files/big.bin');
    expect((error as ArchiveError).unpackedBytes).toBeLessThan(1024 * 1024);
    expect((await verify(bomb)).errors).toEqual(['entry "files/big.bin" is larger than 67108864 bytes']);
  });

  test('the other limits: compressed size, entry count, entry size', async () => {
    const limited = (limits: object) => verifyCapsule(good.archive, { trustedKeys: trusted, limits });
    expect((await limited({ maxCompressedBytes: 100 })).result.errors).toEqual([
      'the archive is larger than 100 bytes',
    ]);
    expect((await limited({ maxEntries: 3 })).result.errors).toEqual(['the archive holds more than 3 entries']);
    expect((await limited({ maxEntryBytes: 10 })).result.errors[0]).toMatch(
      /^entry "capsule\.json" is larger than 10 bytes$/,
    );
  });

  test('a truncated or corrupt gzip is refused with a clear error', async () => {
    const truncated = await verify(good.archive.subarray(0, Math.floor(good.archive.length / 2)));
    expect(truncated.errors).toEqual([expect.stringMatching(/^not a readable \.tar\.gz \(unexpected end of file\)$/)]);
    const corrupt = Buffer.from(good.archive);
    corrupt.fill(0x55, 100, 200);
    expect((await verify(corrupt)).checks).toEqual([
      {
        check: 'archive',
        ok: false,
        detail: expect.stringMatching(/^not a readable \.tar\.gz|^not a valid tar archive/),
      },
    ]);
    // tar's own parser would inflate an inner gzip without our limits: refused.
    expect((await verify(gzipSync(good.archive))).errors).toEqual(['the archive is compressed twice']);
    expect((await verify(Buffer.from('not an archive at all'))).errors).toEqual([
      'not a readable .tar.gz (incorrect header check)',
    ]);
  });
});

/** Every file under `dir`, relative; symlinks and directories reported as such. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isSymbolicLink()) return [`${prefix}${entry.name} (symlink)`];
    return entry.isDirectory() ? tree(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`];
  });
}

describe('extractVerified', () => {
  test('writes every entry of a verified capsule as a regular file into a new directory', async () => {
    const { entries } = await verifyCapsule(good.archive, { trustedKeys: trusted });
    const target = join(base, 'out');
    const written = await extractVerified(entries!, target);
    expect(written).toEqual([...good.contents.keys()].map((path) => join(target, path)));
    expect(tree(target).sort()).toEqual([...good.contents.keys()].sort());
    for (const [path, content] of good.contents) expect(readFileSync(join(target, path))).toEqual(content);
    expect(lstatSync(target).mode & 0o777).toBe(0o700);
  });

  test('writes into an existing empty directory, refuses a non-empty one or a symlink to one', async () => {
    const { entries } = await verifyCapsule(good.archive, { trustedKeys: trusted });
    const empty = join(base, 'empty');
    mkdirSync(empty);
    await expect(extractVerified(entries!, empty)).resolves.toHaveLength(good.contents.size);
    const busy = join(base, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'keep.txt'), 'mine');
    await expect(extractVerified(entries!, busy)).rejects.toThrow(`${busy} is not empty`);
    expect(tree(busy)).toEqual(['keep.txt']);
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(base, 'link'));
    await expect(extractVerified(entries!, join(base, 'link'))).rejects.toThrow('is not a directory');
    expect(tree(elsewhere)).toEqual([]);
  });

  test('refuses the entries of a capsule that failed verification', async () => {
    const { result, entries } = await verifyCapsule(good.archive, { trustedKeys: new Map() });
    expect(result.status).toBe('failed');
    await expect(extractVerified(entries!, join(base, 'out'))).rejects.toThrow('passed verification');
  });
});

describe('trustedKeysFrom', () => {
  test('reads GET /signing-keys bodies and lists of PEMs, recomputing each key id', () => {
    const other = ephemeralSigner();
    const body = {
      keys: [
        { keyId: good.signer.keyId, algorithm: 'ed25519', publicKeyPem: good.signer.publicKeyPem, retiredAt: null },
      ],
    };
    expect(trustedKeysFrom(body)).toEqual(trusted);
    expect(trustedKeysFrom([good.signer.publicKeyPem, other.publicKeyPem])).toEqual(trustedBy(good.signer, other));
    expect(trustedKeysFrom(`${good.signer.publicKeyPem}\n${other.publicKeyPem}`).size).toBe(2);
    const lying = { keys: [{ keyId: other.keyId, publicKeyPem: good.signer.publicKeyPem }] };
    expect(() => trustedKeysFrom(lying)).toThrow(
      `keys[0] is listed as ${other.keyId} but its key is ${good.signer.keyId}`,
    );
    expect(() => trustedKeysFrom({ nope: 1 })).toThrow('expected the body of GET /api/v1/signing-keys');
  });
});
