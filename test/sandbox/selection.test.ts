import {
  BubblewrapSandbox,
  DEFAULT_LIMITS,
  NO_SANDBOX,
  SandboxSelector,
  selectSandbox,
  type SandboxChoice,
} from '../../adapters/sandbox';
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

test('the selector keeps a driver once found, looks again while none is, and after a failed look', async () => {
  const driver = new BubblewrapSandbox();
  const answers: (SandboxChoice | Error)[] = [{ reason: 'none yet' }, new Error('reap failed'), { driver }];
  let asked = 0;
  const selector = new SandboxSelector(config({ limits: { ...DEFAULT_LIMITS, pids: 7 } }), async () => {
    const answer = answers[Math.min(asked++, answers.length - 1)]!;
    if (answer instanceof Error) throw answer;
    return answer;
  });
  expect(selector.limits.pids).toBe(7);
  expect(await selector.start()).toEqual({ reason: 'none yet' });
  await expect(selector.current()).rejects.toThrow('reap failed');
  const [first, second] = await Promise.all([selector.current(), selector.current()]);
  expect(first.driver).toBe(driver);
  expect(second.driver).toBe(driver);
  expect((await selector.current()).driver).toBe(driver);
  expect(asked).toBe(3);
});

test('a worker given no sandbox says so', async () => {
  expect(await NO_SANDBOX.current()).toEqual({ reason: 'this worker was started without a sandbox' });
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
