import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');

test('a worker whose sandbox runs could overcommit memory refuses to start, naming the settings', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'workers/main.ts')], {
    cwd: root,
    env: { ...process.env, SANDBOX_MAX_CONCURRENT: '1000', SANDBOX_MEMORY_MB: '4096', WORKER_ROLES: 'validation' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.status).toBe(78);
  expect(run.stderr).toMatch(/SANDBOX_MAX_CONCURRENT=1000 runs × SANDBOX_MEMORY_MB=4096 need 4096000 MiB/);
});

test('an orchestration-only worker runs no sandbox, so the sandbox settings do not stop it', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'workers/main.ts')], {
    cwd: root,
    // Nothing listens at this address: the worker gets past its checks and fails to connect, not on capacity.
    env: {
      ...process.env,
      SANDBOX_MAX_CONCURRENT: '1000',
      WORKER_ROLES: 'orchestration',
      TEMPORAL_ADDRESS: '127.0.0.1:9',
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.status).toBe(1);
  expect(run.stderr).not.toMatch(/overcommit/);
  expect(run.stderr).toMatch(/worker failed/);
});
