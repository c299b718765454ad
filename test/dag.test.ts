import type { PlannedTask } from '../contracts/plan';
import { runDag, type DagOptions, type FailurePolicy, type TaskScope } from '../workflows/dag';

const task = (id: string, dependencies: string[] = [], priority = 0): PlannedTask => ({
  id,
  type: 'codegen',
  description: id,
  dependencies,
  priority,
});

class Cancelled extends Error {}

/** A scope like Temporal's: cancel() makes every task still running reject with a cancellation. */
function testScope(): TaskScope & { cancelledCount: number } {
  const waiting = new Set<(error: Error) => void>();
  return {
    cancelledCount: 0,
    run<T>(fn: () => Promise<T>) {
      return new Promise<T>((resolve, reject) => {
        waiting.add(reject);
        fn()
          .then(resolve, reject)
          .finally(() => waiting.delete(reject));
      });
    },
    cancel() {
      this.cancelledCount = waiting.size;
      for (const reject of waiting) reject(new Cancelled('cancelled'));
    },
  };
}

const options = (failurePolicy: FailurePolicy = 'fail-fast', maxConcurrency = 10): DagOptions => ({
  maxConcurrency,
  failurePolicy,
  isCancellation: (error) => error instanceof Cancelled,
  scope: testScope(),
});

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Runs a DAG whose tasks take one tick, failing those named; records start order and peak concurrency. */
async function run(tasks: PlannedTask[], opts: DagOptions, failing: string[] = []) {
  const started: string[] = [];
  let running = 0;
  let peak = 0;
  const outcome = await runDag(
    tasks,
    async (t, done) => {
      started.push(t.id);
      peak = Math.max(peak, ++running);
      expect(t.dependencies.every((dep) => done.has(dep))).toBe(true);
      try {
        await tick();
        if (failing.includes(t.id)) throw new Error(`${t.id} broke`);
        if (t.id.startsWith('slow')) await new Promise((resolve) => setTimeout(resolve, 50));
        return `${t.id}-result`;
      } finally {
        running--;
      }
    },
    opts,
  );
  return { started, peak, outcome };
}

test('a diamond runs each task only after its dependencies', async () => {
  const { started, outcome } = await run(
    [task('d', ['b', 'c']), task('b', ['a']), task('c', ['a']), task('a')],
    options(),
  );
  expect(started[0]).toBe('a');
  expect(started.slice(1, 3).sort()).toEqual(['b', 'c']);
  expect(started[3]).toBe('d');
  expect(outcome.results.get('d')).toBe('d-result');
});

test('ready tasks start highest priority first, never more than the concurrency limit at once', async () => {
  const { started, peak } = await run(
    [task('low', [], 1), task('high', [], 9), task('mid', [], 5), task('x', [], 0)],
    options('fail-fast', 2),
  );
  expect(started).toEqual(['high', 'mid', 'low', 'x']);
  expect(peak).toBe(2);
});

test('a plan whose dependencies can never be met is refused rather than hanging', async () => {
  await expect(run([task('a', ['ghost'])], options())).rejects.toThrow('tasks a can never start: unmet dependencies');
});

test('fail-fast: the first failure cancels running siblings and starts nothing more', async () => {
  const opts = options('fail-fast');
  const { started, outcome } = await run(
    [task('bad', [], 9), task('slow-1', [], 5), task('slow-2', [], 5), task('after', ['bad'])],
    opts,
    ['bad'],
  );
  expect([...outcome.failed.keys()]).toEqual(['bad']);
  expect(outcome.cancelled.sort()).toEqual(['slow-1', 'slow-2']);
  expect(started).not.toContain('after');
  expect(outcome.results.size).toBe(0);
});

test('continue: independent tasks still run; dependants of a failure are skipped, transitively', async () => {
  const skipped: string[] = [];
  const { outcome } = await run(
    [task('bad'), task('child', ['bad']), task('grandchild', ['child']), task('free'), task('free-2', ['free'])],
    { ...options('continue'), onSkipped: (t) => skipped.push(t.id) },
    ['bad'],
  );
  expect([...outcome.failed.keys()]).toEqual(['bad']);
  expect(outcome.skipped).toEqual(['child', 'grandchild']);
  expect(skipped).toEqual(['child', 'grandchild']);
  expect([...outcome.results.keys()].sort()).toEqual(['free', 'free-2']);
});

test('a cancellation from outside is rethrown once running tasks settle', async () => {
  const scope = testScope();
  const opts = { ...options(), scope };
  const cancelled = runDag([task('a'), task('b')], () => new Promise<string>(() => undefined), opts);
  await tick();
  scope.cancel();
  await expect(cancelled).rejects.toBeInstanceOf(Cancelled);
  expect(scope.cancelledCount).toBe(2);
});
