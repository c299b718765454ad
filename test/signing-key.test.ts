import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadSigningKey } from '../adapters/identity/signing-key';
import { loadConfig } from '../config';

// The approval signing key a development API creates on first start: private, whole, and the same for
// every process that starts at the same moment (they must sign decisions the same workflows trust).

const securityIn = (dataDir: string, env: NodeJS.ProcessEnv = {}) =>
  loadConfig({ ...process.env, QLP_DATA_DIR: dataDir, APPROVAL_SIGNING_KEY: '', APPROVAL_SIGNING_KEY_FILE: '', ...env })
    .security;

test('processes starting together agree on one key, created whole with mode 600', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'qlp-key-'));
  try {
    const script = `const { loadSigningKey } = require('./adapters/identity/signing-key');
      const { loadConfig } = require('./config');
      process.stdout.write(loadSigningKey(loadConfig({ ...process.env, QLP_DATA_DIR: ${JSON.stringify(dir)} }).security).publicKeyHex);`;
    const runs = await Promise.all(
      Array.from({ length: 6 }, () =>
        promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '..') }),
      ),
    );
    const keys = new Set(runs.map((r) => r.stdout));
    expect(keys.size).toBe(1);
    expect(loadSigningKey(securityIn(dir)).publicKeyHex).toBe([...keys][0]);
    const file = join(dir, 'approval-signing.key');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toMatch(/^[0-9a-f]{64}$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 120_000);

test('in production a missing key stops start-up instead of generating one, and unsigned signals are refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'qlp-key-'));
  try {
    expect(() => loadSigningKey(securityIn(dir, { QLP_ENV: 'production' }))).toThrow(
      /no approval signing key: set APPROVAL_SIGNING_KEY or create .*approval-signing\.key \(QLP_ENV=production\)/,
    );
    // Production also refuses unsigned ops signals unless told otherwise; development accepts them.
    expect(securityIn(dir, { QLP_ENV: 'production' }).unsignedSignals).toBe('refuse');
    expect(securityIn(dir, { QLP_ENV: 'production', GATE_UNSIGNED_SIGNALS: 'accept' }).unsignedSignals).toBe('accept');
    expect(securityIn(dir).unsignedSignals).toBe('accept');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
