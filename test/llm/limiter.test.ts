import { ProviderLimiter } from '../../adapters/llm/limiter';

const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

test('at most maxConcurrency run at once; the rest wait for a free slot', async () => {
  const limiter = new ProviderLimiter(2, 0);
  let running = 0;
  let peak = 0;
  const work = async () => {
    running++;
    peak = Math.max(peak, running);
    await tick(20);
    running--;
  };
  await Promise.all(Array.from({ length: 7 }, () => limiter.run(work)));
  expect(peak).toBe(2);
});

test('at most requestsPerMinute start in any sliding minute', async () => {
  let offset = 0;
  const limiter = new ProviderLimiter(10, 2, () => Date.now() + offset);
  const started: number[] = [];
  const calls = [1, 2, 3].map((n) => limiter.run(async () => void started.push(n)));
  await tick(100);
  expect(started).toEqual([1, 2]);
  offset = 60_001; // a minute later, by the limiter's clock
  await Promise.all(calls);
  expect(started).toEqual([1, 2, 3]);
});

test('a cancelled wait gives up its place and rejects', async () => {
  const limiter = new ProviderLimiter(1, 0);
  let release!: () => void;
  const busy = limiter.run(() => new Promise<void>((resolve) => (release = resolve)));
  const controller = new AbortController();
  const waiting = limiter.run(async () => 'never', controller.signal);
  controller.abort(new Error('activity cancelled'));
  await expect(waiting).rejects.toThrow('activity cancelled');
  release();
  await busy;
  await expect(limiter.run(async () => 'free again')).resolves.toBe('free again');
});
