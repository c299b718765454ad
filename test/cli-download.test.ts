import { createHash } from 'node:crypto';
import {
  existsSync,
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
import { hostileApi, jsonRoute, runQlp, type Route } from './support/cli-run';

// `qlp download` against a hostile API (real HTTP, the real CLI): it names the file itself, writes only
// into its target directory, never over an existing file without --force, never through a planted symlink.

const intentId = '97d03910-e873-48bb-afed-f976e98f1d98';
const capsuleId = 'bcea52a9-d59f-4730-8faa-bc810307c47a';
const payload = Buffer.from('pretend this is a capsule archive\n');
const sha256 = createHash('sha256').update(payload).digest('hex');
const fileName = `${intentId}-v3.tar.gz`;

function download(body: Buffer, checksum: string): Route {
  return (request, response) => {
    if (request.url !== `/api/v1/capsules/${capsuleId}/download`) return false;
    response.writeHead(200, {
      'content-type': 'application/gzip',
      'content-length': String(body.length),
      'content-disposition': 'attachment; filename="../../.bashrc"',
      'x-checksum-sha256': checksum,
    });
    response.end(body);
    return true;
  };
}

const intent = (checksum: string) =>
  jsonRoute(`/api/v1/intents/${intentId}`, {
    id: intentId,
    status: 'COMPLETED',
    capsule: { id: capsuleId, version: 3, sha256: checksum },
  });

let api: Awaited<ReturnType<typeof hostileApi>>;
let lying: Awaited<ReturnType<typeof hostileApi>>;
let base: string;
let target: string;

beforeAll(async () => {
  api = await hostileApi([intent(sha256), download(payload, sha256)]);
  // Announces the right checksum but sends other bytes.
  lying = await hostileApi([intent(sha256), download(Buffer.from('tampered bytes, same length!!!!!!\n'), sha256)]);
});
afterAll(async () => {
  await api.close();
  await lying.close();
});
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'qlp-download-'));
  target = join(base, 'home', 'user', 'capsules');
  mkdirSync(target, { recursive: true });
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const qlp = (args: string[], server = api) =>
  runQlp(['download', intentId, ...args, '--api', server.url, '--token', 't']);

/** Every file under `dir`, relative, symlinks included. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? tree(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

test("the server's Content-Disposition (../../.bashrc) is ignored: the name comes from the ids, in the target dir", async () => {
  const run = await qlp(['-o', target]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(tree(base)).toEqual([`home/user/capsules/${fileName}`]);
  expect(readFileSync(join(target, fileName))).toEqual(payload);
  expect(run.stdout).toContain(`sha256  ${sha256} (verified)`);
});

test('the default target is the current directory, with the same name', async () => {
  const run = await runQlp(['download', intentId, '--api', api.url, '--token', 't'], {}, target);
  expect(run.code).toBe(0);
  expect(tree(base)).toEqual([`home/user/capsules/${fileName}`]);
});

test('an existing file is not overwritten without --force, and is with it', async () => {
  writeFileSync(join(target, fileName), 'mine');
  const refused = await qlp(['-o', target]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/already exists; nothing was downloaded \(use --force to replace it\)/);
  expect(readFileSync(join(target, fileName), 'utf8')).toBe('mine');

  const forced = await qlp(['-o', target, '--force']);
  expect(forced.code).toBe(0);
  expect(readFileSync(join(target, fileName))).toEqual(payload);
  expect(tree(target)).toEqual([fileName]);
});

test('a planted <target>.part symlink is not followed', async () => {
  const victim = join(base, 'victim');
  writeFileSync(victim, 'precious');
  symlinkSync(victim, join(target, `${fileName}.part`));
  const run = await qlp(['-o', target]);
  expect(run.code).toBe(0);
  expect(readFileSync(victim, 'utf8')).toBe('precious');
  expect(lstatSync(join(target, `${fileName}.part`)).isSymbolicLink()).toBe(true);
  expect(readFileSync(join(target, fileName))).toEqual(payload);
});

test('a symlink planted at the target name is neither followed nor replaced without --force', async () => {
  const victim = join(base, 'victim');
  writeFileSync(victim, 'precious');
  symlinkSync(victim, join(target, fileName));
  expect((await qlp(['-o', target])).code).toBe(1);
  expect(readFileSync(victim, 'utf8')).toBe('precious');
  expect((await qlp(['-o', target, '--force'])).code).toBe(0);
  expect(readFileSync(victim, 'utf8')).toBe('precious');
  expect(lstatSync(join(target, fileName)).isSymbolicLink()).toBe(false);
  expect(readFileSync(join(target, fileName))).toEqual(payload);
});

test('bytes that do not match the advertised sha256 are never given the name, and no temp file stays', async () => {
  const run = await qlp(['-o', target], lying);
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/checksum mismatch: .* nothing was saved/);
  expect(tree(base)).toEqual([]);
  expect(existsSync(join(target, fileName))).toBe(false);
});
