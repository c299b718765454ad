import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure } from '@temporalio/common';
import { useHarness } from './time-skipping/harness';

// Read-model writes retry with a bound: a database that never answers fails the intent, with the cause,
// after at most 25 attempts and 10 minutes per write, instead of a workflow looping on its first write
// forever. On Temporal's time-skipping server: the retry timers pass in milliseconds.

const harness = useHarness();

test('a read-model write that always fails ends the intent in bounded (workflow) time, naming the cause', async () => {
  const intent = await harness().start({
    activities: {
      recordIntent: async () => {
        throw new Error('database unreachable');
      },
    },
  });
  const error = await intent.handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  let cause = (error as WorkflowFailedError).cause;
  if (cause instanceof ActivityFailure) cause = cause.cause;
  expect(cause?.message).toMatch(/database unreachable/);

  // The first write (PLANNING) and the failure's own write (FAILED), each given up after its attempts.
  const attempts = intent.calls('recordIntent');
  expect(attempts.length).toBeGreaterThan(2);
  expect(attempts.length).toBeLessThanOrEqual(2 * 25);
  expect(new Set(attempts.map((call) => call.input.status))).toEqual(new Set(['PLANNING', 'FAILED']));
  expect(intent.calls('parseIntent')).toHaveLength(0);
  expect(await intent.runTimeMs()).toBeLessThanOrEqual(2 * 10 * 60_000 + 60_000);
});
