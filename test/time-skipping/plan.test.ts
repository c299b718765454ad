import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { plan, useHarness } from './harness';

// Failures before the gate: the plan-size limit, and agent retries whose backoff timers are skipped.

const harness = useHarness();

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

test('a plan larger than maxPlanTasks fails the intent before any agent runs', async () => {
  const intent = await harness().start({
    policy: { maxPlanTasks: 4 },
    activities: { parseIntent: async () => plan(5) },
  });

  const failure = await failureOf(intent.handle.result());
  expect(failure.type).toBe('PlanTooLarge');
  expect(failure.message).toMatch(/5 tasks.*limit is 4/);
  expect(failure.nonRetryable).toBe(true);

  expect(intent.calls('parseIntent').map((call) => call.input.maxTasks)).toEqual([4]); // the planner was told the limit
  expect(intent.calls('runAgent')).toHaveLength(0);
  expect(intent.recordedStatuses()).toEqual(['PLANNING', 'FAILED']);
  expect(intent.calls('recordIntent').at(-1)!.input.reason).toMatch(/5 tasks.*limit is 4/);
});

test('a plan of exactly maxPlanTasks tasks runs them all', async () => {
  const intent = await harness().start({
    policy: { maxPlanTasks: 4, autoApprove: true },
    activities: { parseIntent: async () => plan(4) },
  });

  expect(await intent.handle.result()).toMatchObject({ status: 'COMPLETED' });
  expect(intent.calls('runAgent')).toHaveLength(4);
});

test('an agent that keeps failing is retried with backoff (timers skipped) until its attempts run out', async () => {
  const wallStart = performance.now();
  const intent = await harness().start({
    activities: {
      parseIntent: async () => plan(1, 'codegen'),
      runAgent: async () => {
        throw new Error('model unavailable');
      },
    },
  });

  const failure = await failureOf(intent.handle.result());
  expect(failure.type).toBe('TaskFailed');
  expect(failure.message).toContain('model unavailable (after 5 attempts)');

  // codegen: 5 attempts, backoff 1 s, 2 s, 4 s, 8 s between them
  expect(intent.calls('runAgent')).toHaveLength(5);
  expect(await intent.runTimeMs()).toBeGreaterThanOrEqual(15_000);
  expect(performance.now() - wallStart).toBeLessThan(10_000);
  expect(intent.calls('recordTask').at(-1)!.input).toMatchObject({ taskId: 't1', state: 'FAILED', attempt: 5 });
  expect(intent.recordedStatuses().at(-1)).toBe('FAILED');
  expect(intent.calls('packageCapsule')).toHaveLength(0);
});
