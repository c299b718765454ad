import type { Activities } from '../activities';
import { VALIDATION_ACTIVITIES } from '../activities';
import { call } from './support/api';
import { eventually, openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';

// Scale-out: validation workers are added on the validation task queue, and Temporal spreads the
// validation activities over them, while one orchestration worker runs the workflows.

let stack: TestStack;
const workers: RunningWorker[] = [];

beforeAll(async () => {
  stack = await openStack('scale-out');
});

afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await stack?.close();
});

type Served = { worker: string; activity: string }[];

/** Records which worker ran each validation activity; `hold` keeps one worker's activities until released. */
function tagValidation(name: string, served: Served, hold?: Promise<void>) {
  return (activities: Activities): Activities => {
    const wrapped = { ...activities } as Record<string, unknown>;
    for (const activity of VALIDATION_ACTIVITIES) {
      const run = activities[activity] as (input: unknown) => Promise<unknown>;
      wrapped[activity] = async (input: unknown) => {
        served.push({ worker: name, activity });
        await hold;
        return run(input);
      };
    }
    return wrapped as unknown as Activities;
  };
}

test('two validation workers on one queue share the validation of concurrent intents', async () => {
  const served: Served = [];
  let release!: () => void;
  // Worker A keeps what it takes until B has served something: A alone (at most 4 activities at a time
  // with one thread) cannot take all of them, so the rest must reach B, or this test times out.
  const bServed = new Promise<void>((resolve) => (release = resolve));
  workers.push(await startWorker(stack, { roles: ['orchestration'] }));
  workers.push(
    await startWorker(stack, {
      roles: ['validation'],
      validationThreads: 1,
      wrapActivities: tagValidation('A', served, bServed),
    }),
  );
  workers.push(
    await startWorker(stack, {
      roles: ['validation'],
      validationThreads: 1,
      wrapActivities: (activities) => {
        const tagged = tagValidation('B', served)(activities);
        return Object.fromEntries(
          Object.entries(tagged).map(([name, fn]) => [
            name,
            async (input: unknown) => {
              release();
              return (fn as (i: unknown) => Promise<unknown>)(input);
            },
          ]),
        ) as unknown as Activities;
      },
    }),
  );

  const texts = [
    'A TypeScript module that tracks library book loans with borrower, book title and due date',
    'A REST API for books with title, author, year and available',
    'A CLI to add and list tasks with title and done',
  ];
  const ids: string[] = [];
  for (const text of texts) {
    const { status, body } = await call(`${stack.apiUrl}/intents`, { body: { text } });
    expect(status).toBe(202);
    ids.push(body.id);
  }
  for (const id of ids) {
    await eventually(async () => {
      const { body } = await call(`${stack.apiUrl}/intents/${id}`);
      return body.status === 'AWAITING_APPROVAL' ? body : undefined;
    }, `intent ${id} to reach the gate`);
  }
  const byWorker = (name: string) => served.filter((s) => s.worker === name).length;
  expect(byWorker('A')).toBeGreaterThan(0);
  expect(byWorker('B')).toBeGreaterThan(0);
  // Every validation activity of every intent was served (an attempt cut off under load may be served twice).
  for (const activity of VALIDATION_ACTIVITIES)
    expect(served.filter((s) => s.activity === activity).length).toBeGreaterThanOrEqual(texts.length);
});
