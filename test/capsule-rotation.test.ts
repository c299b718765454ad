import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadLocalSigner } from '../adapters/signing/local-key';
import { SigningKeyList } from '../contracts/capsule';
import type { IntentView } from '../contracts/views';
import { call, decide } from './support/api';
import { runQlp } from './support/cli-run';
import { approverKey, openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';
import { untilStatus } from './support/where';

// Key rotation, as an operator does it: `npm run capsule-key -- rotate`, then restart the worker. New
// capsules are signed with the new key; a capsule signed before still verifies, with the keys the API serves.

const run = promisify(execFile);
let stack: TestStack;
let keyDir: string;
let work: string;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  stack = await openStack('capsule-rotation');
  keyDir = mkdtempSync(join(tmpdir(), 'qlp-capsule-keys-'));
  work = mkdtempSync(join(tmpdir(), 'qlp-rotation-'));
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
  rmSync(keyDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

/** A worker signing with the directory's active key, as workers/main.ts loads it at start. */
async function restartWorker(): Promise<string> {
  await worker?.stop();
  const signer = loadLocalSigner(keyDir, 'development');
  worker = await startWorker(stack, { signer });
  return signer.keyId;
}

/** Runs an intent to its capsule and saves the archive; returns the file. */
async function capsuleOf(text: string, name: string): Promise<string> {
  const submitted = await call(`${stack.apiUrl}/intents`, { body: { text, tags: ['rotation-test'] } });
  expect(submitted.status).toBe(202);
  const id: string = submitted.body.id;
  const waiting = await untilStatus<IntentView>(stack, id, ['AWAITING_APPROVAL']);
  const approved = await decide(
    stack.apiUrl,
    id,
    { decision: 'approve', reason: 'ok' },
    await approverKey(stack, 'rotation-approver'),
  );
  expect(approved.status).toBe(200);
  expect(waiting.gate?.digest).toMatch(/^[0-9a-f]{64}$/);
  const done = await untilStatus<IntentView>(stack, id, ['COMPLETED']);
  const download = await fetch(`${stack.apiUrl}/capsules/${done.capsule!.id}/download`, {
    headers: { authorization: `Bearer ${stack.keys.submitter}` },
  });
  const file = join(work, name);
  writeFileSync(file, Buffer.from(await download.arrayBuffer()));
  return file;
}

async function verify(file: string, keys: SigningKeyList['keys']) {
  const keysFile = join(work, `keys-${keys.map((k) => k.keyId.slice(8, 16)).join('-')}.json`);
  writeFileSync(keysFile, JSON.stringify({ keys }));
  const { code, stdout } = await runQlp(['--json', 'verify', file, '--keys', keysFile]);
  return { code, result: JSON.parse(stdout) as { status: string; signedBy: string[]; errors: string[] } };
}

test('after a rotation new capsules are signed with the new key, and one signed before still verifies', async () => {
  const first = await restartWorker();
  const before = await capsuleOf('Build an inventory tracker for warehouse pallets', 'before.tar.gz');

  // The operator's rotation, with the deployment's config (its key directory and database).
  const rotated = await run('npx', ['tsx', 'scripts/capsule-key.ts', 'rotate'], {
    cwd: join(__dirname, '..'),
    env: { ...process.env, CAPSULE_SIGNING_KEY_DIR: keyDir, DATABASE_URL: stack.config.databaseUrl },
  });
  expect(rotated.stdout).toMatch(/active capsule signing key: ed25519:[0-9a-f]{32} \(1 earlier key\(s\) retired/);
  const second = await restartWorker();
  expect(second).not.toBe(first);
  const after = await capsuleOf('A CLI tool to track nightly sales reports', 'after.tar.gz');

  // The API serves both: the old one retired (with when), the new one current.
  const served = SigningKeyList.parse((await call(`${stack.apiUrl}/signing-keys`)).body);
  const old = served.keys.find((k) => k.keyId === first);
  const current = served.keys.find((k) => k.keyId === second);
  expect(old?.retiredAt).toEqual(expect.any(String));
  expect(current?.retiredAt).toBeNull();

  const both = [old!, current!];
  expect(await verify(before, both)).toMatchObject({ code: 0, result: { status: 'verified', signedBy: [first] } });
  expect(await verify(after, both)).toMatchObject({ code: 0, result: { status: 'verified', signedBy: [second] } });
  // The key matters: the old capsule does not verify with the new key alone.
  const newOnly = await verify(before, [current!]);
  expect(newOnly.code).toBe(1);
  expect(newOnly.result.status).toBe('failed');
  expect(newOnly.result.errors.join('\n')).toContain(first);
});
