import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPSULE_PATHS, VerificationResult } from '../contracts/capsule';
import {
  buildV1Capsule,
  buildV2Capsule,
  ephemeralSigner,
  flipByte,
  packCapsule,
  withEntry,
  type BuiltFixture,
} from './capsule/capsule-fixture';
import { hostileApi, jsonRoute, runQlp, type Route } from './support/cli-run';

// `qlp verify` as a user runs it (bin/qlp): offline with --keys (no request reaches any API), its exit
// codes, its one line per check, --json, --extract, and everything from the archive escaped.

let good: BuiltFixture;
let base: string;
let keysJson: string;
let api: Awaited<ReturnType<typeof hostileApi>>;
const requests: string[] = [];

beforeAll(async () => {
  good = await buildV2Capsule();
  // Any request at all is recorded: with a file and --keys there must be none.
  api = await hostileApi([
    (request) => {
      requests.push(request.url ?? '');
      return false;
    },
  ]);
});
afterAll(() => api.close());
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'qlp-cli-verify-'));
  keysJson = join(base, 'keys.json');
  writeFileSync(keysJson, JSON.stringify(signingKeyList(good)));
  requests.length = 0;
});
afterEach(() => {
  rmSync(base, { recursive: true, force: true });
  expect(requests).toEqual([]);
});

const signingKeyList = ({ signer }: { signer: BuiltFixture['signer'] }) => ({
  keys: [
    {
      keyId: signer.keyId,
      algorithm: 'ed25519',
      publicKeyPem: signer.publicKeyPem,
      createdAt: '2026-01-01T00:00:00.000Z',
      retiredAt: null,
    },
  ],
});

function save(archive: Buffer, name = 'capsule.tar.gz'): string {
  const path = join(base, name);
  writeFileSync(path, archive);
  return path;
}

const qlp = (args: string[], server = api) =>
  runQlp(['verify', ...args, '--api', server.url, '--token', 't'], {}, base);

const CHECKS = [
  'archive',
  'manifest',
  'manifest-signature',
  'files',
  'unlisted-entries',
  'provenance-signature',
  'provenance-subject',
  'review-digest',
  'approval-digest',
];

test('a good capsule with --keys: exit 0, one ✓ line per check, then the summary; no network', async () => {
  const run = await qlp([save(good.archive), '--keys', keysJson]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const lines = run.stdout.trimEnd().split('\n');
  expect(lines.slice(0, CHECKS.length).map((line) => line.match(/^✓ ([a-z-]+): /)?.[1])).toEqual(CHECKS);
  expect(lines.at(-1)).toBe(
    `verified: capsule ${good.capsuleId} (intent ${good.intentId}, version 1), ${good.contents.size - 3} files, signed by ${good.signer.keyId}`,
  );
});

test('--keys also takes a PEM file, and may be repeated', async () => {
  const pem = join(base, 'key.pem');
  writeFileSync(pem, good.signer.publicKeyPem);
  const other = join(base, 'other.pem');
  writeFileSync(other, ephemeralSigner().publicKeyPem);
  const run = await qlp([save(good.archive), '--keys', other, '--keys', pem]);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(`signed by ${good.signer.keyId}`);
});

test('a tampered file: exit 1, the check and the file named', async () => {
  const path = 'files/src/app.ts';
  const run = await qlp([
    save(packCapsule(withEntry(good.contents, path, flipByte(good.contents.get(path)!)))),
    '--keys',
    keysJson,
  ]);
  expect(run.code).toBe(1);
  expect(run.stdout).toContain(`✗ files: ${path}: sha256 does not match the manifest\n`);
  expect(run.stdout).toContain('✗ review-digest: ');
  expect(run.stdout).toContain('FAILED: 2 of 9 checks failed');
  expect(run.stderr).toBe('error: the capsule failed verification (2 of 9 checks)\n');
});

test('a key that is not trusted: exit 1, naming the key that signed', async () => {
  const stranger = await buildV2Capsule();
  const run = await qlp([save(stranger.archive), '--keys', keysJson]);
  expect(run.code).toBe(1);
  expect(run.stdout).toContain(
    `✗ manifest-signature: ${CAPSULE_PATHS.manifestSignature}: ${stranger.signer.keyId} is not a trusted key\n`,
  );
});

test('--json prints the VerificationResult, for a verified and for a failed capsule', async () => {
  const run = await qlp([save(good.archive), '--keys', keysJson, '--json']);
  expect(run.code).toBe(0);
  const result = VerificationResult.parse(JSON.parse(run.stdout));
  expect(result).toMatchObject({ status: 'verified', capsuleId: good.capsuleId, signedBy: [good.signer.keyId] });
  expect(result.checks.map((c) => c.check)).toEqual(CHECKS);

  const tampered = withEntry(
    good.contents,
    CAPSULE_PATHS.approval,
    flipByte(good.contents.get(CAPSULE_PATHS.approval)!),
  );
  const failed = await qlp([save(packCapsule(tampered)), '--keys', keysJson, '--json']);
  expect(failed.code).toBe(1);
  expect(JSON.parse(failed.stdout)).toMatchObject({
    status: 'failed',
    errors: ['approval.json: sha256 does not match the manifest'],
  });
});

test('--extract writes the verified capsule into a new directory', async () => {
  const target = join(base, 'out');
  const run = await qlp([save(good.archive), '--keys', keysJson, '--extract', target]);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(`extracted ${good.contents.size} files into ${target}\n`);
  expect(readFileSync(join(target, 'files/src/app.ts'))).toEqual(good.contents.get('files/src/app.ts'));
  expect(readdirSync(target).sort()).toEqual([
    'approval.json',
    'capsule.json',
    'compliance-report.html',
    'compliance-report.md',
    'files',
    'provenance.intoto.json',
    'reports',
    'sbom.cdx.json',
    'signatures',
  ]);
});

test('--extract refuses a non-empty directory, and extracts nothing from a capsule that failed', async () => {
  const busy = join(base, 'busy');
  mkdirSync(busy);
  writeFileSync(join(busy, 'mine.txt'), 'keep');
  const run = await qlp([save(good.archive), '--keys', keysJson, '--extract', busy]);
  expect(run.code).toBe(1);
  expect(run.stderr).toBe(
    `error: nothing was extracted: ${busy} is not empty: extract into a new or empty directory\n`,
  );
  expect(readdirSync(busy)).toEqual(['mine.txt']);

  const target = join(base, 'out');
  const stranger = await buildV2Capsule();
  const failed = await qlp([save(stranger.archive), '--keys', keysJson, '--extract', target]);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toContain('nothing was extracted');
  expect(existsSync(target)).toBe(false);
});

test('a v1 capsule is unsigned: exit 1, or 0 with --allow-unsigned', async () => {
  const file = save(buildV1Capsule().archive);
  const run = await qlp([file, '--keys', keysJson]);
  expect(run.code).toBe(1);
  expect(run.stdout).toContain('unsigned: capsule ');
  expect(run.stderr).toBe('error: the capsule is unsigned (quantumcapsule/v1): nothing proves its origin\n');
  const allowed = await qlp([file, '--keys', keysJson, '--allow-unsigned']);
  expect(allowed.code).toBe(0);
  expect(allowed.stdout).toContain('(accepted (--allow-unsigned))');
});

test('usage errors exit 2: a missing file, an unreadable or invalid key file', async () => {
  const missing = await qlp([join(base, 'nope.tar.gz'), '--keys', keysJson]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain(`error: no such file: ${join(base, 'nope.tar.gz')}`);
  const noKeys = await qlp([save(good.archive), '--keys', join(base, 'nokeys.json')]);
  expect(noKeys.code).toBe(2);
  expect(noKeys.stderr).toContain('cannot read it (ENOENT)');
  writeFileSync(join(base, 'bad.json'), '{"keys": [{"publicKeyPem": "nope"}]}');
  const badKeys = await qlp([save(good.archive), '--keys', join(base, 'bad.json')]);
  expect(badKeys.code).toBe(2);
  expect(badKeys.stderr).toContain('keys[0] is not a public key in PEM form');
});

test('names from the archive are escaped: no control or bidi character reaches the terminal', async () => {
  const hostile = withEntry(good.contents, 'files/\u202eexe.txt', Buffer.from('x'));
  const run = await qlp([save(packCapsule(hostile)), '--keys', keysJson]);
  expect(run.code).toBe(1);
  expect(run.stdout).not.toContain('\u202e');
  expect(run.stdout).toContain('✗ unlisted-entries: files/\\u202eexe.txt: in the archive but not listed');
  const refused = await qlp([
    save(packCapsule(withEntry(good.contents, 'files/\u001b[2Jx', Buffer.from('x')))),
    '--keys',
    keysJson,
  ]);
  expect(refused.code).toBe(1);
  expect(refused.stdout).not.toContain('\u001b');
  expect(refused.stdout).toContain('✗ archive: entry "files/\\u001b[2Jx": its path contains a control character');
});

describe('by id, through the API', () => {
  const capsuleId = 'c0ffee00-1234-4abc-8def-0123456789ab';
  const downloadRoute =
    (body: Buffer, checksum: string): Route =>
    (request, response) => {
      if (request.url !== `/api/v1/capsules/${capsuleId}/download`) return false;
      response.writeHead(200, { 'content-type': 'application/gzip', 'x-checksum-sha256': checksum });
      response.end(body);
      return true;
    };
  const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  const routes = (body: Buffer, checksum: string) => [
    jsonRoute(`/api/v1/intents/${good.intentId}`, {
      id: good.intentId,
      status: 'COMPLETED',
      capsule: { id: capsuleId, version: 1, sha256: checksum },
    }),
    downloadRoute(body, checksum),
    jsonRoute('/api/v1/signing-keys', signingKeyList(good)),
  ];

  test('downloads the capsule and the signing keys, then verifies', async () => {
    const server = await hostileApi(routes(good.archive, sha(good.archive)));
    try {
      const run = await qlp([good.intentId], server);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`verified: capsule ${good.capsuleId}`);
    } finally {
      await server.close();
    }
  });

  test('a genuine capsule of another intent is not the one asked for', async () => {
    const other = '4a1d7a3e-2f55-4d0c-9a39-5f3a0c1b2d11';
    const server = await hostileApi([
      jsonRoute(`/api/v1/intents/${other}`, {
        id: other,
        status: 'COMPLETED',
        capsule: { id: capsuleId, version: 1, sha256: sha(good.archive) },
      }),
      downloadRoute(good.archive, sha(good.archive)),
      jsonRoute('/api/v1/signing-keys', signingKeyList(good)),
    ]);
    try {
      const run = await qlp([other], server);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`is not ${other}, which was asked for`);
    } finally {
      await server.close();
    }
  });

  test('a download that does not match the announced checksum is not verified', async () => {
    const server = await hostileApi(routes(Buffer.from(good.archive).fill(0, 10, 20), sha(good.archive)));
    try {
      const run = await qlp([good.intentId], server);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: checksum mismatch: the API announced sha256 [0-9a-f]{64} but the download/);
      expect(run.stdout).toBe('');
    } finally {
      await server.close();
    }
  });
});
