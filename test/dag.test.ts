import type { PlannedTask } from '../contracts/plan';
import { runDag } from '../workflows/dag';

const task = (id: string, dependencies: string[] = [], priority = 0): PlannedTask => ({
  id,
  type: 'codegen',
  description: id,
  dependencies,
  priority,
});

/** Runs a DAG whose tasks finish in the order the test releases them, recording start order. */
async function run(tasks: PlannedTask[], maxConcurrency: number) {
  const started: string[] = [];
  let running = 0;
  let peak = 0;
  const results = await runDag(
    tasks,
    async (t, done) => {
      started.push(t.id);
      peak = Math.max(peak, ++running);
      expect(t.dependencies.every((dep) => done.has(dep))).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return `${t.id}-result`;
    },
    maxConcurrency,
  );
  return { started, peak, results };
}

test('a diamond runs each task only after its dependencies', async () => {
  const { started, results } = await run([task('d', ['b', 'c']), task('b', ['a']), task('c', ['a']), task('a')], 10);
  expect(started[0]).toBe('a');
  expect(started.slice(1, 3).sort()).toEqual(['b', 'c']);
  expect(started[3]).toBe('d');
  expect(results.get('d')).toBe('d-result');
});

test('ready tasks start highest priority first, never more than the concurrency limit at once', async () => {
  const { started, peak } = await run(
    [task('low', [], 1), task('high', [], 9), task('mid', [], 5), task('x', [], 0)],
    2,
  );
  expect(started).toEqual(['high', 'mid', 'low', 'x']);
  expect(peak).toBe(2);
});

test('a plan whose dependencies can never be met is refused rather than hanging', async () => {
  await expect(run([task('a', ['ghost'])], 10)).rejects.toThrow('tasks a can never start: unmet dependencies');
});

test('a failing task fails the run', async () => {
  await expect(
    runDag(
      [task('a'), task('b', ['a'])],
      async (t) => {
        if (t.id === 'a') throw new Error('agent broke');
        return t.id;
      },
      10,
    ),
  ).rejects.toThrow('agent broke');
});
