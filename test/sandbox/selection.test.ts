import { DEFAULT_LIMITS, selectSandbox } from '../../adapters/sandbox';
import { loadConfig } from '../../config';

// Choosing the isolation: generated code runs only where a driver really works, and otherwise the reason is said.

const config = (overrides: object) => ({ driver: 'auto' as const, limits: DEFAULT_LIMITS, ...overrides });

test('auto picks Docker when an engine answers', async () => {
  const choice = await selectSandbox(config({}));
  expect(choice.driver?.name).toBe('docker');
});

test('a forced driver is used or refused, never swapped for another', async () => {
  expect((await selectSandbox(config({ driver: 'bubblewrap' }))).driver?.name).toBe('bubblewrap');
  const refused = await selectSandbox(config({ driver: 'docker', dockerSocket: '/nonexistent/docker.sock' }));
  expect(refused.driver).toBeUndefined();
  expect('reason' in refused && refused.reason).toMatch(/docker: no Docker engine answers/);
});

test('with no isolation available nothing runs, and the reason names each driver', async () => {
  const choice = await selectSandbox(
    config({ dockerSocket: '/nonexistent/docker.sock', bwrapPath: '/nonexistent/bwrap' }),
  );
  expect(choice.driver).toBeUndefined();
  expect('reason' in choice && choice.reason).toMatch(
    /^no isolation available, so generated code is not run \(docker: no Docker engine answers .*; bubblewrap: bubblewrap is not installed/,
  );
});

test('SANDBOX_DRIVER=none switches layer 2 off with that reason', async () => {
  const choice = await selectSandbox(config({ driver: 'none' }));
  expect('reason' in choice && choice.reason).toBe('the sandbox is switched off (SANDBOX_DRIVER=none)');
});

test('sandbox settings come from the environment and bad values name the variable', () => {
  const sandbox = loadConfig({
    SANDBOX_DRIVER: 'docker',
    SANDBOX_MEMORY_MB: '512',
    SANDBOX_TIMEOUT_MS: '30000',
  }).sandbox;
  expect(sandbox).toMatchObject({ driver: 'docker', limits: { memoryBytes: 512 * 1024 * 1024, timeoutMs: 30_000 } });
  expect(() => loadConfig({ SANDBOX_DRIVER: 'host' })).toThrow(
    /SANDBOX_DRIVER: must be 'auto', 'docker', 'bubblewrap' or 'none'/,
  );
  expect(() => loadConfig({ SANDBOX_PIDS: '0' })).toThrow(/SANDBOX_PIDS/);
});
