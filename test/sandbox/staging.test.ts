import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNNER_PATH } from '../../adapters/sandbox/layout';
import { readableByOthers, stagedInputs, type StagedInputs } from '../../adapters/sandbox/staging';

// The bubblewrap driver's staged inputs: copied once into a directory the sandbox's unprivileged uids can
// read, whatever the checkout's own permissions (CI clones into a private `mktemp -d`).

const REPO = join(__dirname, '..', '..');
const uid = process.getuid?.() ?? 0;

/** Stages in a separate process (its own memo), with TMPDIR set; resolves to what it staged. */
async function stageInChild(tmp: string): Promise<StagedInputs> {
  const script = "require('./adapters/sandbox/staging.ts').stagedInputs().then((s) => console.log(JSON.stringify(s)))";
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: REPO,
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const [code] = (await once(child, 'close')) as [number];
  if (code !== 0) throw new Error(`staging failed (${code}): ${err}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as StagedInputs;
}

describe('staged sandbox inputs', () => {
  test('a directory of this user that others can read and not write, with the runner as it is', async () => {
    const staged = await stagedInputs();
    const dir = await stat(staged.dir);
    expect(dir.uid).toBe(uid);
    expect(dir.mode & 0o777).toBe(0o755);
    expect((await stat(join(staged.dir, '..'))).mode & 0o022).toBe(0);
    expect(await readFile(staged.runner, 'utf8')).toBe(await readFile(RUNNER_PATH, 'utf8'));
    for (const file of [
      staged.runner,
      join(staged.etc, 'passwd'),
      join(staged.nodeModules, 'typescript', 'package.json'),
    ]) {
      expect(await readableByOthers(file, false)).toBe(true);
      expect((await stat(file)).mode & 0o022).toBe(0);
    }
    // As root the sandbox runs as other uids: Node too must be reachable (where it is, or staged).
    if (uid === 0) expect(await readableByOthers(staged.node, true)).toBe(true);
  });

  test('a file in a private directory is not readable by others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qlp-private-'));
    try {
      await writeFile(join(dir, 'file'), 'x');
      await chmod(join(dir, 'file'), 0o644);
      await chmod(dir, 0o700);
      expect(await readableByOthers(join(dir, 'file'), false)).toBe(false);
      await chmod(dir, 0o755);
      expect(await readableByOthers(join(dir, 'file'), false)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('processes staging at the same time end up with one complete stage and no partial copies', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'qlp-staging-test-'));
    try {
      await chmod(tmp, 0o755); // as root the stage must be reachable by others
      const staged = await Promise.all([stageInChild(tmp), stageInChild(tmp), stageInChild(tmp)]);
      expect(new Set(staged.map((s) => s.dir)).size).toBe(1);
      const base = join(tmp, `qlp-sandbox-inputs-${uid}`);
      expect(staged[0]!.dir.startsWith(base)).toBe(true);
      expect(await readdir(base)).toEqual([staged[0]!.dir.slice(base.length + 1)]);
      expect(existsSync(staged[0]!.runner)).toBe(true);
      expect(await readFile(staged[0]!.runner, 'utf8')).toBe(await readFile(RUNNER_PATH, 'utf8'));
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 60_000);

  test('as root, a private TMPDIR is passed over for a directory others can reach', async () => {
    if (uid !== 0) return; // only root's sandboxes run as other uids
    const tmp = await mkdtemp(join(tmpdir(), 'qlp-staging-private-')); // mode 0700
    try {
      const staged = await stageInChild(tmp);
      expect(staged.dir.startsWith(tmp)).toBe(false);
      expect(await readableByOthers(staged.runner, false)).toBe(true);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
