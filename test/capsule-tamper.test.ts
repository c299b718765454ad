import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import {
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { CAPSULE_PATHS, INTOTO_PAYLOAD_TYPE, MANIFEST_PAYLOAD_TYPE, VerificationResult } from '../contracts/capsule';
import { call, decide } from './support/api';
import { hostileApi, jsonRoute, runQlp } from './support/cli-run';
import { approverKey, eventually, openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';

// An outsider's black-box tests of `qlp verify`, written from docs/capsule-format.md alone: one real signed
// capsule, tampered with the way an attacker (or an insider holding a trusted key) would, and the real CLI.

/** One tar entry as this file writes it: a regular file unless `type` says otherwise. */
interface Entry {
  path: string;
  data: Buffer;
  /** ustar typeflag: '0' file, '1' hard link, '2' symlink, '5' directory, 'x'/'g' pax headers, 'L' GNU long name. */
  type?: '0' | '1' | '2' | '5' | 'x' | 'g' | 'L';
  linkname?: string;
}

interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKeyPem: string;
}

let stack: TestStack;
let worker: RunningWorker;
let workDir: string;
/** The downloaded capsule, its tar stream, and its entries. */
let original: Buffer;
let originalTar: Buffer;
let entries: Entry[];
/** The intent it was made for. */
let intentId: string;
/** keys.json as served by GET /api/v1/signing-keys. */
let servedKeys: { keys: { keyId: string; publicKeyPem: string }[] };
let keysFile: string;
/** A second key, trusted too (listed beside the served ones): an insider's key, for forgeries that must still fail. */
let insider: SigningKey;
let insiderKeysFile: string;

beforeAll(async () => {
  stack = await openStack('capsule-tamper');
  worker = await startWorker(stack);
  workDir = mkdtempSync(join(tmpdir(), 'qlp-tamper-'));

  const { body: submitted } = await call(`${stack.apiUrl}/intents`, {
    body: { text: 'Build an inventory tracker for warehouse pallets' },
  });
  await intentReaches(submitted.id, 'AWAITING_APPROVAL');
  const decided = await decide(
    stack.apiUrl,
    submitted.id,
    { decision: 'approve', reason: 'reviewed' },
    await approverKey(stack, 'tamper-ops@example.com'),
  );
  expect(decided.status).toBe(200);
  intentId = submitted.id;
  const done = await intentReaches(submitted.id, 'COMPLETED');
  const download = await fetch(`${stack.apiUrl}${done.capsule.download.replace('/api/v1', '')}`, {
    headers: { authorization: `Bearer ${stack.keys.submitter}` },
  });
  expect(download.status).toBe(200);
  original = Buffer.from(await download.arrayBuffer());
  originalTar = gunzipSync(original);
  entries = readTar(originalTar);

  const served = await call(`${stack.apiUrl}/signing-keys`);
  expect(served.status).toBe(200);
  servedKeys = served.body;
  keysFile = join(workDir, 'keys.json');
  writeFileSync(keysFile, JSON.stringify(servedKeys));
  insider = freshKey();
  insiderKeysFile = join(workDir, 'insider-keys.json');
  writeFileSync(insiderKeysFile, JSON.stringify({ keys: [...servedKeys.keys, keyView(insider)] }));
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

async function intentReaches(id: string, status: string) {
  return eventually(async () => {
    const { body } = await call(`${stack.apiUrl}/intents/${id}`);
    return body.status === status ? body : undefined;
  }, `intent ${id} to reach ${status}`);
}

// ---- tar, written and read by hand so the evil cases are exactly what they say ----

/** A numeric ustar field as the capsule's own archives write it (octal, then space and NUL when it fits). */
function octal(value: number, width: number): string {
  const digits = value.toString(8);
  return digits.length <= width - 2 ? `${digits.padStart(width - 2, '0')} \0` : `${digits.padStart(width - 1, '0')}\0`;
}

function tarHeader(entry: Entry, size: number): Buffer {
  const header = Buffer.alloc(512);
  let name = entry.path;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 1);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  header.write(name, 0, 100);
  header.write(octal(entry.type === '5' ? 0o755 : 0o644, 8), 100);
  header.write(octal(size, 12), 124);
  header.write(octal(0, 12), 136);
  header.write(' '.repeat(8), 148);
  header.write(entry.type ?? '0', 156);
  header.write(entry.linkname ?? '', 157, 100);
  header.write('ustar\0' + '00', 257);
  header.write(octal(0, 8), 329);
  header.write(octal(0, 8), 337);
  header.write(prefix, 345, 155);
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  header.write(octal(checksum, 8), 148);
  return header;
}

const padding = (size: number) => Buffer.alloc((512 - (size % 512)) % 512);

function packTar(list: Entry[]): Buffer {
  const parts = list.flatMap((entry) => {
    const data = entry.type === '1' || entry.type === '2' || entry.type === '5' ? Buffer.alloc(0) : entry.data;
    return [tarHeader(entry, data.length), data, padding(data.length)];
  });
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

const field = (header: Buffer, start: number, length: number) =>
  header
    .subarray(start, start + length)
    .toString('utf8')
    .replace(/\0.*$/s, '');

/** Reads the (trusted, downloaded) capsule: regular ustar files only, anything else is a harness error. */
function readTar(tar: Buffer): Entry[] {
  const list: Entry[] = [];
  for (let offset = 0; offset + 512 <= tar.length;) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const type = field(header, 156, 1) || '0';
    if (type !== '0') throw new Error(`the downloaded capsule holds a type ${type} entry`);
    const prefix = field(header, 345, 155);
    const path = (prefix ? `${prefix}/` : '') + field(header, 0, 100);
    const size = parseInt(field(header, 124, 12).trim(), 8);
    list.push({ path, data: Buffer.from(tar.subarray(offset + 512, offset + 512 + size)) });
    offset += 512 + size + padding(size).length;
  }
  return list;
}

const capsuleOf = (list: Entry[]) => gzipSync(packTar(list));

/** A pax header's records (`<length> <key>=<value>\n`, the length counting itself). */
function paxRecords(records: Record<string, string>): Buffer {
  const lines = Object.entries(records).map(([key, value]) => {
    const body = ` ${key}=${value}\n`;
    let length = body.length + 1;
    while (String(length).length + body.length !== length) length++;
    return `${length}${body}`;
  });
  return Buffer.from(lines.join(''));
}

// ---- editing a capsule ----

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const otherHex = (hex: string) => sha256(`not ${hex}`);
const dataOf = (list: Entry[], path: string) => {
  const entry = list.find((e) => e.path === path);
  if (!entry) throw new Error(`no ${path} in the capsule`);
  return entry.data;
};
const jsonOf = (list: Entry[], path: string) => JSON.parse(dataOf(list, path).toString('utf8'));
const jsonBytes = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);

/** A copy of `list` with `path`'s content replaced. */
const replaced = (list: Entry[], path: string, data: Buffer): Entry[] => {
  dataOf(list, path);
  return list.map((e) => (e.path === path ? { ...e, data } : e));
};
const editedJson = (list: Entry[], path: string, edit: (value: any) => void): Entry[] => {
  const value = jsonOf(list, path);
  edit(value);
  return replaced(list, path, jsonBytes(value));
};
const without = (list: Entry[], path: string) => list.filter((e) => e.path !== path);

/** Changes one byte: a letter's case, preferably the first letter of a quoted string (JSON stays JSON). */
function flipOneByte(data: Buffer): Buffer {
  const copy = Buffer.from(data);
  const isLower = (i: number) => copy.readUInt8(i) >= 0x61 && copy.readUInt8(i) <= 0x7a;
  const middle = copy.length >> 1;
  let at = -1;
  for (let i = middle; i < copy.length && at < 0; i++) {
    if (isLower(i) && [0x22, 0x27].includes(copy.readUInt8(i - 1))) at = i;
  }
  for (let i = middle; i < copy.length && at < 0; i++) if (isLower(i)) at = i;
  copy.writeUInt8(copy.readUInt8(at) ^ 0x20, at);
  return copy;
}

/** The manifest's sha256 and size of every listed file brought in line with the entries (an attacker's fix-up). */
const manifestFixedUp = (list: Entry[]) =>
  editedJson(list, CAPSULE_PATHS.manifest, (manifest) => {
    for (const file of manifest.files) {
      const data = dataOf(list, file.path);
      Object.assign(file, { sha256: sha256(data), size: data.length });
    }
  });

/** The provenance subject's digests brought in line with the entries. */
const provenanceFixedUp = (list: Entry[]) =>
  editedJson(list, CAPSULE_PATHS.provenance, (statement) => {
    for (const subject of statement.subject) subject.digest = { sha256: sha256(dataOf(list, subject.name)) };
  });

/** The review digests recomputed from the entries as the spec defines them. */
function reviewOf(list: Entry[]) {
  const lines = list
    .filter((e) => e.path.startsWith('files/'))
    .map((e) => ({ path: e.path.slice('files/'.length), sha: sha256(e.data) }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
    .map(({ path, sha }) => `${path}\0${sha}\n`);
  const files = sha256(lines.join(''));
  const report = sha256(dataOf(list, 'reports/validation-report.json'));
  return { files, report, review: sha256(`qlp-review-v1\nfiles ${files}\nreport ${report}\n`) };
}

// ---- DSSE, as the spec describes it ----

function freshKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return {
    keyId: `ed25519:${sha256(der).slice(0, 32)}`,
    privateKey,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

const keyView = (key: SigningKey) => ({
  keyId: key.keyId,
  algorithm: 'ed25519',
  publicKeyPem: key.publicKeyPem,
  createdAt: new Date(0).toISOString(),
  retiredAt: null,
});

const pae = (type: string, payload: Buffer) =>
  Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `), payload]);

function envelope(key: SigningKey, payloadType: string, payload: Buffer, keyid = key.keyId): Buffer {
  const sig = sign(null, pae(payloadType, payload), key.privateKey).toString('base64');
  return jsonBytes({ payloadType, payload: payload.toString('base64'), signatures: [{ keyid, sig }] });
}

/** Signs the manifest (its signing.keyId set to the key) and the provenance statement with `key`. */
function resigned(list: Entry[], key: SigningKey, manifestType = MANIFEST_PAYLOAD_TYPE): Entry[] {
  const signed = editedJson(list, CAPSULE_PATHS.manifest, (manifest) => (manifest.signing.keyId = key.keyId));
  const manifest = dataOf(signed, CAPSULE_PATHS.manifest);
  const provenance = dataOf(signed, CAPSULE_PATHS.provenance);
  return replaced(
    replaced(signed, CAPSULE_PATHS.manifestSignature, envelope(key, manifestType, manifest)),
    CAPSULE_PATHS.provenanceSignature,
    envelope(key, INTOTO_PAYLOAD_TYPE, provenance),
  );
}

// ---- running the real CLI ----

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  result?: VerificationResult;
}

/** An API nobody listens on: verifying a file with --keys must not need one. */
const offline = { QLP_API_URL: 'http://127.0.0.1:9' };

async function qlpVerify(
  capsule: Buffer,
  {
    keys = keysFile,
    args = [],
    json = true,
    env = {},
  }: { keys?: string; args?: string[]; json?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  const dir = mkdtempSync(join(workDir, 'run-'));
  const file = join(dir, 'capsule.tar.gz');
  writeFileSync(file, capsule);
  try {
    return await verifyFile(file, { keys, args: [...(json ? ['--json'] : []), ...args], cwd: dir, env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function verifyFile(
  file: string,
  {
    keys = keysFile,
    args = [],
    cwd,
    env = {},
  }: { keys?: string; args?: string[]; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<Run> {
  const run = await runQlp(['verify', file, '--keys', keys, ...args], { ...offline, ...env }, cwd);
  let result: VerificationResult | undefined;
  try {
    result = VerificationResult.parse(JSON.parse(run.stdout));
  } catch {
    // not a verification result: the assertions below say so
  }
  return { ...run, result };
}

/** What a refusal said: the result's errors (the failed checks' details), for matching. */
function refusal(run: Run): string {
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 1, stderr: expect.any(String) });
  expect(run.result).toBeDefined();
  expect(run.result!.status).toBe('failed');
  expect(run.result!.checks.some((c) => !c.ok)).toBe(true);
  return run.result!.errors.join('\n');
}

/** Refused (exit 1, status failed), and the errors name every one of `names`. */
function expectRefused(run: Run, ...names: (string | RegExp)[]) {
  const said = refusal(run);
  for (const name of names) {
    if (typeof name === 'string') expect(said).toContain(name);
    else expect(said).toMatch(name);
  }
}

function expectVerified(run: Run) {
  // stderr rides along so a failure shows it; it may carry progress (e.g. what --extract wrote).
  expect({ code: run.code, stderr: run.stderr, errors: run.result?.errors }).toEqual({
    code: 0,
    stderr: expect.any(String),
    errors: [],
  });
  expect(run.result!.status).toBe('verified');
  expect(run.result!.checks.filter((c) => !c.ok)).toEqual([]);
}

// ---- the untouched capsule ----

// If this fails the harness no longer writes archives as the packager does (e.g. it now writes pax headers).
test('(harness) rebuilding the downloaded capsule by hand gives its tar stream byte for byte', () => {
  expect(entries.map((e) => e.path)[0]).toBe('capsule.json');
  expect(packTar(entries).equals(originalTar)).toBe(true);
});

test('the untouched capsule verifies, signed by a key that GET /signing-keys serves', async () => {
  const run = await qlpVerify(original);
  expectVerified(run);
  const manifest = jsonOf(entries, CAPSULE_PATHS.manifest);
  expect(run.result).toMatchObject({
    format: 'quantumcapsule/v2',
    capsuleId: manifest.id,
    intentId: manifest.intentId,
    version: manifest.version,
  });
  expect(run.result!.signedBy.length).toBeGreaterThan(0);
  for (const keyId of run.result!.signedBy) expect(servedKeys.keys.map((k) => k.keyId)).toContain(keyId);

  const human = await qlpVerify(original, { json: false });
  expect(human.code).toBe(0);
  expect(human.stdout).toMatch(/verified/i);
});

test('the untouched capsule re-packed and re-gzipped by the harness verifies too (the control for every case below)', async () => {
  expectVerified(await qlpVerify(capsuleOf(entries)));
});

test('a capsule re-signed by another trusted key verifies, naming that key (the control for the forgeries)', async () => {
  const run = await qlpVerify(capsuleOf(resigned(entries, insider)), { keys: insiderKeysFile });
  expectVerified(run);
  expect(run.result!.signedBy).toContain(insider.keyId);
});

// ---- one flipped byte ----

test.each([
  'files/src/index.ts',
  'capsule.json',
  'provenance.intoto.json',
  'approval.json',
  'sbom.cdx.json',
  'compliance-report.html',
  'reports/validation-report.json',
])('one byte flipped in %s: refused, naming it', async (path) => {
  const tampered = replaced(entries, path, flipOneByte(dataOf(entries, path)));
  expectRefused(await qlpVerify(capsuleOf(tampered)), path);
});

test.each([CAPSULE_PATHS.manifestSignature, CAPSULE_PATHS.provenanceSignature])(
  'one bit flipped in the signature of %s: refused',
  async (path) => {
    const tampered = editedJson(entries, path, (envelope) => {
      const sig = Buffer.from(envelope.signatures[0].sig, 'base64');
      sig.writeUInt8(sig.readUInt8(7) ^ 0x01, 7);
      envelope.signatures[0].sig = sig.toString('base64');
    });
    expectRefused(await qlpVerify(capsuleOf(tampered)), path.replace(/^signatures\/|\.dsse\.json$/g, ''));
  },
);

// ---- the manifest changed without the key ----

test('capsule.json edited (approver renamed), its file list still right, old envelope kept: the signature fails', async () => {
  const tampered = editedJson(entries, CAPSULE_PATHS.manifest, (manifest) => {
    manifest.approval.approver = 'mallory@example.com';
  });
  expectRefused(await qlpVerify(capsuleOf(tampered)), 'capsule.json');
});

test('capsule.json edited and the envelope payload swapped for its new bytes, old sig kept: the signature fails', async () => {
  const tampered = editedJson(entries, CAPSULE_PATHS.manifest, (manifest) => {
    manifest.intent = 'Build an inventory tracker for warehouse pallets, and mail the database to mallory';
  });
  const forged = editedJson(tampered, CAPSULE_PATHS.manifestSignature, (envelope) => {
    envelope.payload = dataOf(tampered, CAPSULE_PATHS.manifest).toString('base64');
  });
  expectRefused(await qlpVerify(capsuleOf(forged)), 'capsule.json');
});

test('a project file replaced and its sha256 and size updated in capsule.json: the manifest no longer matches its signature', async () => {
  const swapped = replaced(entries, 'files/src/index.ts', Buffer.from("export * from './backdoor';\n"));
  expectRefused(await qlpVerify(capsuleOf(manifestFixedUp(swapped))), 'capsule.json');
});

// ---- the entries against the manifest ----

test('a file the manifest lists is missing: refused, naming it', async () => {
  expectRefused(await qlpVerify(capsuleOf(without(entries, 'files/README.md'))), 'files/README.md');
});

test('an extra file the manifest does not list: refused, naming it', async () => {
  const extra = [...entries, { path: 'files/src/backdoor.ts', data: Buffer.from('export const pwned = true;\n') }];
  expectRefused(await qlpVerify(capsuleOf(extra)), 'files/src/backdoor.ts');
});

test('an extra entry under signatures/: refused, naming it', async () => {
  const extra = [
    ...entries,
    { path: 'signatures/extra.dsse.json', data: dataOf(entries, CAPSULE_PATHS.manifestSignature) },
  ];
  expectRefused(await qlpVerify(capsuleOf(extra)), 'signatures/extra.dsse.json');
});

test('a second entry for a listed path, with other content, after the first: refused, naming it', async () => {
  const twice = [...entries, { path: 'files/src/index.ts', data: Buffer.from("export * from './backdoor';\n") }];
  expectRefused(await qlpVerify(capsuleOf(twice)), 'files/src/index.ts');
});

test('a second, identical entry for a listed path: refused, naming it (no duplicates at all)', async () => {
  const twice = [...entries, { path: 'files/README.md', data: dataOf(entries, 'files/README.md') }];
  expectRefused(await qlpVerify(capsuleOf(twice)), 'files/README.md');
});

test('a second capsule.json at the end of the archive: refused, naming it', async () => {
  const second = jsonOf(entries, CAPSULE_PATHS.manifest);
  second.approval.approver = 'mallory@example.com';
  expectRefused(
    await qlpVerify(capsuleOf([...entries, { path: 'capsule.json', data: jsonBytes(second) }])),
    'capsule.json',
  );
});

test.each([CAPSULE_PATHS.manifestSignature, CAPSULE_PATHS.provenanceSignature])(
  'the envelope %s removed: refused (a v2 capsule is not "unsigned")',
  async (path) => {
    const run = await qlpVerify(capsuleOf(without(entries, path)));
    expectRefused(run, path.replace(/^signatures\/|\.dsse\.json$/g, ''));
  },
);

// ---- approval and provenance, without the key ----

test('approval.json bound to another valid-looking digest: refused, naming approval.json', async () => {
  const tampered = editedJson(entries, CAPSULE_PATHS.approval, (approval) => {
    approval.digest = otherHex(approval.digest);
  });
  expectRefused(await qlpVerify(capsuleOf(tampered)), 'approval.json');
});

test('provenance subject pointing to another digest (statement re-serialised, old envelope): refused, naming the provenance', async () => {
  const tampered = editedJson(entries, CAPSULE_PATHS.provenance, (statement) => {
    statement.subject[0].digest.sha256 = otherHex(statement.subject[0].digest.sha256);
  });
  expectRefused(await qlpVerify(capsuleOf(tampered)), 'provenance.intoto.json');
});

// ---- forgeries signed with a trusted key: checks 3–5 must hold on their own ----

const insiderVerify = (list: Entry[]) => qlpVerify(capsuleOf(resigned(list, insider)), { keys: insiderKeysFile });

test('trusted-signed: approval.json bound to another digest (manifest fixed up): refused, naming approval.json', async () => {
  const tampered = editedJson(entries, CAPSULE_PATHS.approval, (approval) => {
    approval.digest = otherHex(approval.digest);
  });
  expectRefused(await insiderVerify(manifestFixedUp(provenanceFixedUp(tampered))), 'approval.json');
});

test("trusted-signed: one approver's digest changed (manifest fixed up): refused, naming approval.json", async () => {
  const tampered = editedJson(entries, CAPSULE_PATHS.approval, (approval) => {
    approval.approvers[0].digest = otherHex(approval.approvers[0].digest);
  });
  expectRefused(await insiderVerify(manifestFixedUp(provenanceFixedUp(tampered))), 'approval.json');
});

test('trusted-signed: a file swapped after approval, manifest and provenance fixed up, review kept: refused on the review', async () => {
  const swapped = replaced(entries, 'files/src/index.ts', Buffer.from("export * from './backdoor';\n"));
  expectRefused(await insiderVerify(manifestFixedUp(provenanceFixedUp(swapped))), /review/i);
});

test('trusted-signed: a file swapped after approval and the review recomputed, approval left: refused, naming approval.json', async () => {
  const swapped = replaced(entries, 'files/src/index.ts', Buffer.from("export * from './backdoor';\n"));
  const reviewed = editedJson(swapped, CAPSULE_PATHS.manifest, (manifest) => (manifest.review = reviewOf(swapped)));
  expectRefused(await insiderVerify(manifestFixedUp(provenanceFixedUp(reviewed))), 'approval.json');
});

test('(harness) the review digests recomputed from the untouched files are the manifest’s', () => {
  expect(reviewOf(entries)).toEqual(jsonOf(entries, CAPSULE_PATHS.manifest).review);
});

test('trusted-signed: provenance subject with another digest for one file: refused, naming the provenance and the file', async () => {
  const tampered = editedJson(entries, CAPSULE_PATHS.provenance, (statement) => {
    const subject = statement.subject.find((s: { name: string }) => s.name === 'files/src/queries.ts');
    subject.digest.sha256 = otherHex(subject.digest.sha256);
  });
  expectRefused(await insiderVerify(manifestFixedUp(tampered)), 'provenance.intoto.json', 'files/src/queries.ts');
});

test('trusted-signed: provenance subject missing one file: refused, naming the provenance and the file', async () => {
  const tampered = editedJson(entries, CAPSULE_PATHS.provenance, (statement) => {
    statement.subject = statement.subject.filter((s: { name: string }) => s.name !== 'files/src/queries.ts');
  });
  expectRefused(await insiderVerify(manifestFixedUp(tampered)), 'provenance.intoto.json', 'files/src/queries.ts');
});

test('trusted-signed: the manifest lists a file with its right sha256 but another size: refused, naming it', async () => {
  const tampered = editedJson(entries, CAPSULE_PATHS.manifest, (manifest) => {
    manifest.files.find((f: { path: string }) => f.path === 'files/README.md').size += 1;
  });
  expectRefused(await insiderVerify(tampered), 'files/README.md');
});

test('trusted-signed: the manifest envelope carries the in-toto payload type: refused, naming capsule.json', async () => {
  const run = await qlpVerify(capsuleOf(resigned(entries, insider, INTOTO_PAYLOAD_TYPE)), { keys: insiderKeysFile });
  expectRefused(run, 'capsule.json');
});

// ---- keys ----

test('envelopes signed by a fresh, untrusted key with its own well-formed key id: refused, saying the key is not trusted', async () => {
  const stranger = freshKey();
  const run = await qlpVerify(capsuleOf(resigned(entries, stranger)));
  expectRefused(run, 'capsule.json', /trust/i);
});

test('envelope signed by a fresh key that claims the trusted key id: refused, naming capsule.json', async () => {
  const stranger = freshKey();
  const trustedId = jsonOf(entries, CAPSULE_PATHS.manifest).signing.keyId;
  const forged = replaced(
    entries,
    CAPSULE_PATHS.manifestSignature,
    envelope(stranger, MANIFEST_PAYLOAD_TYPE, dataOf(entries, CAPSULE_PATHS.manifest), trustedId),
  );
  expectRefused(await qlpVerify(capsuleOf(forged)), 'capsule.json');
});

test("keys.json without the signer's key: the untouched capsule is refused, saying the key is not trusted", async () => {
  const others = join(workDir, 'other-keys.json');
  writeFileSync(others, JSON.stringify({ keys: [keyView(freshKey())] }));
  expectRefused(await qlpVerify(original, { keys: others }), /trust/i);
});

// ---- hostile archive entries: refused, and nothing written anywhere (with --extract or without) ----

/** Every path under `dir`, relative; directories end in '/', symlinks are listed, not followed. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? [`${prefix}${entry.name}/`, ...tree(join(dir, entry.name), `${prefix}${entry.name}/`)]
      : [`${prefix}${entry.name}`],
  );
}

/** A sandbox for one hostile run: the capsule, keys and a victim file beside an empty working directory. */
function sandbox() {
  const base = mkdtempSync(join(workDir, 'hostile-'));
  mkdirSync(join(base, 'cwd'));
  writeFileSync(join(base, 'victim'), 'precious');
  writeFileSync(join(base, 'keys.json'), JSON.stringify(servedKeys));
  return base;
}

const pwned = Buffer.from('pwned');
/** Each case: the whole archive given the sandbox and the genuine entries, and what the refusal must name. */
const hostile: [string, (base: string, list: Entry[]) => Entry[], string | RegExp][] = [
  ['../evil', (_, list) => [...list, { path: '../evil', data: pwned }], '../evil'],
  ['an absolute path', (base, list) => [...list, { path: `${base}/abs/evil`, data: pwned }], '/abs/evil'],
  ['files/../../evil', (_, list) => [...list, { path: 'files/../../evil', data: pwned }], 'files/../../evil'],
  [
    'a symlink out, then a file through it',
    (base, list) => [
      ...list,
      { path: 'files/escape', data: Buffer.alloc(0), type: '2', linkname: join(base, 'outside') },
      { path: 'files/escape/pwned', data: pwned },
    ],
    'files/escape',
  ],
  [
    'a hard link to a file outside',
    (base, list) => [...list, { path: 'files/hard', data: Buffer.alloc(0), type: '1', linkname: join(base, 'victim') }],
    'files/hard',
  ],
  ['a directory entry', (_, list) => [...list, { path: 'files/dir/', data: Buffer.alloc(0), type: '5' }], 'files/dir'],
  // Named as is, or JSON-escaped (each backslash doubled).
  [
    'a backslash path',
    (_, list) => [...list, { path: 'files\\..\\..\\evil', data: pwned }],
    /files(\\\\?\.\.){2}\\\\?evil/,
  ],
  [
    'a pax header renaming a listed file to ../evil',
    (_, list) =>
      list.flatMap((e) =>
        e.path === 'files/README.md'
          ? [{ path: 'PaxHeader/README.md', type: 'x' as const, data: paxRecords({ path: '../evil' }) }, e]
          : [e],
      ),
    '../evil',
  ],
  [
    'a GNU long name renaming a listed file to ../evil',
    (_, list) =>
      list.flatMap((e) =>
        e.path === 'files/README.md'
          ? [{ path: '././@LongLink', type: 'L' as const, data: Buffer.from('../evil\0') }, e]
          : [e],
      ),
    '../evil',
  ],
  // Python's tarfile applies a global `path` to every later entry (extractall writes ../evil); GNU tar applies it
  // too (and stops at the '..'). Only node-tar ignores it, so the verifier must refuse the header itself.
  [
    'a pax global header renaming every entry to ../evil',
    (_, list) => [{ path: 'pax_global_header', type: 'g', data: paxRecords({ path: '../evil' }) }, ...list],
    /pax_global_header|global/i,
  ],
];

describe.each(hostile)('an archive with %s', (_what, evil, named) => {
  test.each([false, true])('is refused naming the entry, and nothing is written (--extract: %s)', async (extract) => {
    const base = sandbox();
    mkdirSync(join(base, 'outside'));
    const file = join(base, 'capsule.tar.gz');
    writeFileSync(file, capsuleOf(evil(base, entries)));
    const before = tree(base);
    const args = ['--json', ...(extract ? ['--extract', join(base, 'cwd', 'out')] : [])];
    const run = await verifyFile(file, { keys: join(base, 'keys.json'), args, cwd: join(base, 'cwd') });
    expectRefused(run, named);
    expect(tree(base)).toEqual(before);
    expect(readFileSync(join(base, 'victim'), 'utf8')).toBe('precious');
    expect(statSync(join(base, 'victim')).nlink).toBe(1);
    expect(existsSync(join(base, 'outside', 'pwned'))).toBe(false);
  });
});

test('(control) --extract writes a verified capsule into its directory', async () => {
  const base = sandbox();
  const file = join(base, 'capsule.tar.gz');
  writeFileSync(file, original);
  const out = join(base, 'cwd', 'out');
  const run = await verifyFile(file, {
    keys: join(base, 'keys.json'),
    args: ['--json', '--extract', out],
    cwd: join(base, 'cwd'),
  });
  expectVerified(run);
  expect(readFileSync(join(out, 'capsule.json'))).toEqual(dataOf(entries, 'capsule.json'));
  expect(readFileSync(join(out, 'files/src/index.ts'))).toEqual(dataOf(entries, 'files/src/index.ts'));
  expect(lstatSync(join(out, 'files/src/index.ts')).isFile()).toBe(true);
});

test('--extract into a directory holding a planted symlink writes nothing through it', async () => {
  const base = sandbox();
  mkdirSync(join(base, 'outside'));
  const out = join(base, 'cwd', 'out');
  mkdirSync(out);
  symlinkSync(join(base, 'outside'), join(out, 'files'));
  const file = join(base, 'capsule.tar.gz');
  writeFileSync(file, original);
  const run = await verifyFile(file, {
    keys: join(base, 'keys.json'),
    args: ['--extract', out],
    cwd: join(base, 'cwd'),
  });
  expect(run.code).not.toBe(0);
  expect(readdirSync(join(base, 'outside'))).toEqual([]);
  expect(readdirSync(out)).toEqual(['files']);
});

// ---- verifying by id, through an API ----

test('verifying by intent id through the real API, with its served keys, verifies', async () => {
  const run = await runQlp(
    ['verify', intentId, '--json', '--api', stack.apiUrl.replace(/\/api\/v1$/, ''), '--token', stack.keys.submitter],
    {},
    workDir,
  );
  expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({
    code: 0,
    stdout: expect.any(String),
    stderr: expect.any(String),
  });
  expect(JSON.parse(run.stdout)).toMatchObject({ status: 'verified', intentId });
});

// The spec does not say it in so many words, but "verified" must be about the capsule asked for: a genuine
// capsule of another intent (served by a compromised or mixed-up API) is not the asked intent's capsule.
test.each([
  ['an intent', 'intent'],
  ['a capsule', 'capsule'],
])('asked for %s id, a genuine capsule of another intent is not reported verified', async (_label, kind) => {
  const askedIntent = randomUUID();
  const askedCapsule = randomUUID();
  const checksum = sha256(original);
  const api = await hostileApi([
    jsonRoute(`/api/v1/intents/${askedIntent}`, {
      id: askedIntent,
      status: 'COMPLETED',
      capsule: {
        id: askedCapsule,
        version: 1,
        sha256: checksum,
        download: `/api/v1/capsules/${askedCapsule}/download`,
      },
    }),
    (request, response) => {
      if (request.url !== `/api/v1/capsules/${askedCapsule}/download`) return false;
      response.writeHead(200, { 'content-type': 'application/gzip', 'x-checksum-sha256': checksum });
      response.end(original);
      return true;
    },
  ]);
  try {
    const asked = kind === 'intent' ? askedIntent : askedCapsule;
    const run = await runQlp(
      ['verify', asked, '--keys', keysFile, '--json', '--api', api.url, '--token', 't'],
      {},
      workDir,
    );
    expect({ code: run.code, stdout: run.stdout }).not.toMatchObject({ code: 0 });
    expect(run.stdout + run.stderr).toContain(asked);
  } finally {
    await api.close();
  }
});

// ---- malformed archives ----

/** Writes the capsule's entries plus `extra` big zero files, gzip-streamed: gigabytes never sit in memory. */
async function writeBomb(file: string, extra: { path: string; size: number }[]): Promise<void> {
  const gzip = createGzip({ level: 9 });
  const out = createWriteStream(file);
  gzip.pipe(out);
  const write = async (chunk: Buffer) => {
    if (!gzip.write(chunk)) await once(gzip, 'drain');
  };
  const zeros = Buffer.alloc(1 << 20);
  await write(packTar(entries.slice(0, 3)).subarray(0, -1024));
  for (const { path, size } of extra) {
    await write(tarHeader({ path, data: Buffer.alloc(0) }, size));
    for (let left = size; left > 0; left -= zeros.length)
      await write(left >= zeros.length ? zeros : zeros.subarray(0, left));
    await write(padding(size));
  }
  await write(packTar(entries.slice(3)));
  gzip.end();
  await once(out, 'close');
}

/** Runs verify with a preload that records the process's peak RSS (kB) when it exits. */
async function verifyMeasured(file: string): Promise<Run & { maxRssKb: number }> {
  const preload = join(workDir, 'peak-rss.js');
  const report = join(workDir, `peak-rss-${randomUUID()}`);
  writeFileSync(
    preload,
    "process.on('exit', () => require('fs').writeFileSync(process.env.QLP_PEAK_RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );
  const run = await verifyFile(file, {
    args: ['--json'],
    env: { NODE_OPTIONS: `--require ${preload}`, QLP_PEAK_RSS_FILE: report },
  });
  return { ...run, maxRssKb: Number(readFileSync(report, 'utf8')) };
}

const GIB = 1024 * 1024 * 1024;

test('a gzip bomb (a 2 GiB zero file in 2 MB) is refused, naming it, in under 1 GiB of memory', async () => {
  const file = join(workDir, 'bomb.tar.gz');
  await writeBomb(file, [{ path: 'files/zeros.bin', size: 2 * GIB }]);
  expect(statSync(file).size).toBeLessThan(8 * 1024 * 1024);
  const run = await verifyMeasured(file);
  expectRefused(run, 'files/zeros.bin');
  expect(run.maxRssKb).toBeLessThan(1024 * 1024);
});

test('many modest zero files adding up to 2 GiB are refused in under 1 GiB of memory', async () => {
  const file = join(workDir, 'many.tar.gz');
  const pieces = Array.from({ length: 256 }, (_, i) => ({ path: `files/pad-${i}.bin`, size: 8 * 1024 * 1024 }));
  await writeBomb(file, pieces);
  const run = await verifyMeasured(file);
  refusal(run);
  expect(run.maxRssKb).toBeLessThan(1024 * 1024);
});

test('a truncated archive (its last 100 bytes cut) is refused', async () => {
  const run = await qlpVerify(original.subarray(0, original.length - 100));
  expectRefused(run, /truncat|unexpected end|incomplete|corrupt|gzip|archive/i);
});

test('a file that is not gzip at all is refused', async () => {
  const run = await qlpVerify(Buffer.from('{"format": "quantumcapsule/v2", "this": "is not an archive"}\n'));
  expectRefused(run, /gzip|archive|not a/i);
});

test('a gzip stream that is not a tar archive is refused', async () => {
  const run = await qlpVerify(gzipSync(Buffer.from('x'.repeat(5000))));
  refusal(run);
});

test('a missing file: exit != 0, with a message naming it', async () => {
  const missing = join(workDir, 'no-such-capsule.tar.gz');
  const run = await verifyFile(missing, {});
  expect(run.code).not.toBe(0);
  expect(run.code).not.toBeNull();
  expect(run.stdout + run.stderr).toContain('no-such-capsule.tar.gz');
});

// ---- downgrade to v1 ----

test('relabelled as a v1 capsule after a file swap (signatures and v2 documents dropped, digests fixed): unsigned, exit 1', async () => {
  const swapped = replaced(entries, 'files/src/index.ts', Buffer.from("export * from './backdoor';\n"));
  const v2only = new Set<string>([
    CAPSULE_PATHS.manifestSignature,
    CAPSULE_PATHS.provenanceSignature,
    CAPSULE_PATHS.sbom,
    CAPSULE_PATHS.provenance,
    CAPSULE_PATHS.approval,
    CAPSULE_PATHS.complianceMarkdown,
    CAPSULE_PATHS.complianceHtml,
  ]);
  const stripped = swapped.filter((e) => !v2only.has(e.path));
  const v1 = manifestFixedUp(
    editedJson(stripped, CAPSULE_PATHS.manifest, (manifest) => {
      manifest.format = 'quantumcapsule/v1';
      manifest.files = manifest.files.filter((f: { path: string }) => !v2only.has(f.path));
    }),
  );
  const run = await qlpVerify(capsuleOf(v1));
  expect(run.code).toBe(1);
  expect(run.result).toMatchObject({ status: 'unsigned', signedBy: [] });
});

test('relabelled as v1 but still carrying its v2 signatures: refused (a v1 manifest lists every other entry)', async () => {
  const v1 = editedJson(entries, CAPSULE_PATHS.manifest, (manifest) => (manifest.format = 'quantumcapsule/v1'));
  expectRefused(await qlpVerify(capsuleOf(v1)), 'signatures/');
});
