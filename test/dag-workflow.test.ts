import type { PlannedTask } from '../contracts/plan';
import type { IntentView } from '../contracts/views';
import { fixedPlanner, instrumentAgents, task, type AgentBehaviour, type AgentEvent } from './support/agents';
import { call } from './support/api';
import { eventually, openStack, PATIENCE_MS, startWorker, type RunningWorker, type TestStack } from './support/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await openStack('dag', (config) => ({ ...config, dag: { ...config.dag, maxPlanTasks: 12 } }));
});

afterAll(async () => {
  await stack?.close();
});

const plans = new Map<string, PlannedTask[]>();

/** A worker whose real agents are slowed down or made to fail for chosen tasks. */
async function agentWorker(behaviour: AgentBehaviour) {
  const events: AgentEvent[] = [];
  const worker = await startWorker(stack, {
    planner: fixedPlanner(plans),
    shutdownGraceTime: '1s',
    wrapActivities: instrumentAgents(behaviour, events),
  });
  return { worker, events };
}

async function submit(text: string, tasks: PlannedTask[], extra: object = {}): Promise<IntentView> {
  plans.set(text, tasks);
  const { status, body } = await call<IntentView>(`${stack.apiUrl}/intents`, { body: { text, ...extra } });
  expect(status).toBe(202);
  return body;
}

const read = async (id: string) => (await call<IntentView>(`${stack.apiUrl}/intents/${id}`)).body;

async function until(id: string, statuses: string[], timeoutMs = PATIENCE_MS): Promise<IntentView> {
  return eventually(
    async () => {
      const intent = await read(id);
      return statuses.includes(intent.status) ? intent : undefined;
    },
    `intent ${id} to reach ${statuses.join(' or ')}`,
    timeoutMs,
  );
}

const taskStates = (intent: IntentView) => Object.fromEntries(intent.tasks!.map((t) => [t.id, t.status]));

let running: RunningWorker | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

test('a diamond runs each task only after the tasks it depends on', async () => {
  // Each sibling keeps running until the other has started: they can only finish if they ran side by side.
  const { worker, events } = await agentWorker({
    left: { untilStarted: ['right'] },
    right: { untilStarted: ['left'] },
  });
  running = worker;
  const intent = await submit('diamond', [
    task('top'),
    task('left', ['top']),
    task('right', ['top']),
    task('bottom', ['left', 'right']),
  ]);
  await until(intent.id, ['AWAITING_APPROVAL']);
  const at = (name: string, event: AgentEvent['event']) => events.find((e) => e.task === name && e.event === event)!.at;
  expect(at('left', 'start')).toBeGreaterThanOrEqual(at('top', 'end'));
  expect(at('right', 'start')).toBeGreaterThanOrEqual(at('top', 'end'));
  expect(at('bottom', 'start')).toBeGreaterThanOrEqual(Math.max(at('left', 'end'), at('right', 'end')));
  // Siblings ran side by side: each started before the other ended.
  expect(at('right', 'start')).toBeLessThan(at('left', 'end'));
  expect(at('left', 'start')).toBeLessThan(at('right', 'end'));
});

test('ten independent tasks run side by side', async () => {
  const ids = Array.from({ length: 10 }, (_, i) => `t${i}`);
  // Each agent runs until all ten have started: one after another they would never finish (whatever the load).
  const { worker, events } = await agentWorker(
    Object.fromEntries(ids.map((id) => [id, { latencyMs: 200, untilStarted: ids }])),
  );
  running = worker;
  const intent = await submit(
    'ten wide',
    ids.map((id) => task(id)),
  );
  const waiting = await until(intent.id, ['AWAITING_APPROVAL']);
  const starts = events.filter((e) => e.event === 'start').map((e) => e.at);
  const ends = events.filter((e) => e.event === 'end').map((e) => e.at);
  expect(ends).toHaveLength(10);
  // All ten were running at once: every one started before the first one ended.
  expect(Math.max(...starts)).toBeLessThan(Math.min(...ends));
  const tasks = waiting.tasks!;
  expect(tasks.every((t) => t.status === 'COMPLETED' && t.attempts === 1 && t.startedAt && t.finishedAt)).toBe(true);
});

test('fail-fast: a failing task cancels its running siblings and fails the intent naming it', async () => {
  const { worker, events } = await agentWorker({
    // broken fails once both siblings run; they would run for minutes unless cancelled.
    broken: { fail: 'permanent', untilStarted: ['slow1', 'slow2'] },
    slow1: { latencyMs: 600_000 },
    slow2: { latencyMs: 600_000 },
  });
  running = worker;
  const intent = await submit('fail fast', [
    task('broken', [], 'analyze', 9),
    task('slow1'),
    task('slow2'),
    task('after', ['broken']),
  ]);
  const failed = await until(intent.id, ['FAILED']);
  expect(failed.statusReason).toBe('task broken: broken cannot be generated; 3 other task(s) cancelled (fail-fast)');
  expect(taskStates(failed)).toEqual({ broken: 'FAILED', slow1: 'CANCELLED', slow2: 'CANCELLED', after: 'CANCELLED' });
  await eventually(
    async () => (events.filter((e) => e.event === 'cancelled').length === 2 ? true : undefined),
    'the running agents to see the cancellation',
  );
  expect(
    events
      .filter((e) => e.event === 'cancelled')
      .map((e) => e.task)
      .sort(),
  ).toEqual(['slow1', 'slow2']);
  expect(events.some((e) => e.task === 'after')).toBe(false);
  expect(failed.capsule).toBeNull();
});

test('continue: tasks that do not depend on the failure still run, then the intent fails as partial', async () => {
  const { worker } = await agentWorker({ broken: { fail: 'permanent' }, free: { latencyMs: 500 } });
  running = worker;
  const intent = await submit(
    'keep going',
    [
      task('broken'),
      task('child', ['broken']),
      task('grandchild', ['child']),
      task('free'),
      task('after-free', ['free']),
    ],
    { failurePolicy: 'continue' },
  );
  const failed = await until(intent.id, ['FAILED']);
  expect(taskStates(failed)).toEqual({
    broken: 'FAILED',
    child: 'SKIPPED',
    grandchild: 'SKIPPED',
    free: 'COMPLETED',
    'after-free': 'COMPLETED',
  });
  expect(failed.statusReason).toBe(
    'partial failure: 1 of 5 tasks failed (broken: broken cannot be generated); ' +
      'skipped because they depend on a failed task: child, grandchild',
  );
});

test('a task that exhausts the retries of its type fails the task, not the worker', async () => {
  const { worker, events } = await agentWorker({ flaky: { fail: 'transient' } });
  running = worker;
  const intent = await submit('flaky doc', [task('flaky', [], 'doc')]);
  const failed = await until(intent.id, ['FAILED']);
  expect(events.filter((e) => e.task === 'flaky' && e.event === 'start')).toHaveLength(3); // doc tasks: 3 attempts
  expect(failed.statusReason).toBe('task flaky: flaky hit a transient error (after 3 attempts)');
  expect(failed.tasks![0]).toMatchObject({ status: 'FAILED', attempts: 3 });
  // The same worker goes on serving other intents.
  const next = await submit('after flaky', [task('fine')]);
  await until(next.id, ['AWAITING_APPROVAL']);
});

test('cancelling a running intent stops its tasks and their activities; no capsule, and a second cancel is refused', async () => {
  const { worker, events } = await agentWorker({ long1: { latencyMs: 600_000 }, long2: { latencyMs: 600_000 } });
  running = worker;
  const intent = await submit('to cancel', [task('long1'), task('long2'), task('later', ['long1'])]);
  await eventually(
    async () => (events.filter((e) => e.event === 'start').length === 2 ? true : undefined),
    'both agents running',
  );

  const cancel = await call(`${stack.apiUrl}/intents/${intent.id}/cancel`, {
    body: { reason: 'wrong spec' },
  });
  expect(cancel.status).toBe(202);
  const cancelled = await until(intent.id, ['CANCELLED']);
  expect(cancelled.statusReason).toBe('cancelled by dag-submitter: wrong spec');
  expect(taskStates(cancelled)).toEqual({ long1: 'CANCELLED', long2: 'CANCELLED', later: 'PENDING' });
  await eventually(
    async () => (events.filter((e) => e.event === 'cancelled').length === 2 ? true : undefined),
    'activities to see the cancellation',
  );
  expect(cancelled.capsule).toBeNull();
  const { status } = await stack.temporal.workflow.getHandle(intent.workflowId).describe();
  expect(status.name).toBe('CANCELLED');

  const again = await call(`${stack.apiUrl}/intents/${intent.id}/cancel`, { body: {} });
  expect(again.status).toBe(409);
});

test('cancelling an intent waiting at the gate ends it without a capsule', async () => {
  const { worker } = await agentWorker({});
  running = worker;
  const intent = await submit('cancel at gate', [task('only')]);
  await until(intent.id, ['AWAITING_APPROVAL']);
  expect((await call(`${stack.apiUrl}/intents/${intent.id}/cancel`, { method: 'POST' })).status).toBe(202);
  const cancelled = await until(intent.id, ['CANCELLED']);
  expect(cancelled.statusReason).toBe('cancelled by dag-submitter');
  expect(await stack.db.capsule.count({ where: { intentId: intent.id } })).toBe(0);
  // Nothing was running to slow the body's end: the run still ends Canceled in Temporal, as documented.
  const handle = stack.temporal.workflow.getHandle(intent.workflowId);
  await expect(handle.result()).rejects.toThrow();
  expect((await handle.describe()).status.name).toBe('CANCELLED');
});

test('a plan larger than the limit is refused with a clear reason', async () => {
  const { worker } = await agentWorker({});
  running = worker;
  const intent = await submit(
    'too big',
    Array.from({ length: 13 }, (_, i) => task(`t${i}`)),
  );
  const failed = await until(intent.id, ['FAILED']);
  expect(failed.statusReason).toBe('the plan has 13 tasks; the limit is 12 (MAX_PLAN_TASKS)');
});
