import { createHash, randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { intentWorkflowId } from '../contracts/intent';
import type { intentWorkflow } from '../workflows';
import { call } from './support/api';
import { openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';

// Idempotency-Key, the intent row and the workflow start kept consistent, on the real stack: concurrent
// retries make one intent and one run; a replay points at an intent whose run exists; a withdrawn intent's
// key no longer replays; a run without its row stops with a clear failure instead of retrying forever.

let stack: TestStack;
let worker: RunningWorker;

beforeAll(async () => {
  stack = await openStack('idempotency');
  worker = await startWorker(stack);
});
afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

const submit = (text: string, key: string) =>
  call<{ id: string }>(`${stack.apiUrl}/intents`, { body: { text }, headers: { 'Idempotency-Key': key } });

/** Every run Temporal has for the workflow id. */
async function runsOf(workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const execution of stack.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    runs.push(execution.runId);
  return runs;
}

test('concurrent submissions with one key make one intent and one run, and every answer points at it', async () => {
  const key = `same-${randomUUID()}`;
  const text = 'Build a TypeScript module that formats greetings';
  const answers = await Promise.all(Array.from({ length: 8 }, () => submit(text, key)));
  expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202));
  const ids = new Set(answers.map((a) => a.body.id));
  expect(ids.size).toBe(1);
  const [id] = [...ids] as [string];
  expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(7);

  const rows = await stack.db.intent.findMany({ where: { idempotencyKey: key } });
  expect(rows.map((row) => row.id)).toEqual([id]);
  const { runId } = await stack.temporal.workflow.getHandle(intentWorkflowId(id)).describe();
  expect(rows[0]!.runId).toBe(runId);
  expect(await runsOf(intentWorkflowId(id))).toEqual([runId]);
});

test('a replay of a reserved key whose run is not confirmed yet starts (or joins) that run before answering', async () => {
  // The state a first request is in between recording the intent and starting its run.
  const key = `reserved-${randomUUID()}`;
  const text = 'Build a TypeScript module that adds numbers';
  const id = randomUUID();
  const requestHash = createHash('sha256')
    .update(JSON.stringify(['default', text, null]))
    .digest('hex');
  await stack.db.intent.create({
    data: { id, tenant: 'default', text, workflowId: intentWorkflowId(id), idempotencyKey: key, requestHash },
  });
  const replay = await submit(text, key);
  expect(replay.status).toBe(202);
  expect(replay.headers.get('idempotent-replayed')).toBe('true');
  expect(replay.body.id).toBe(id);
  const { runId } = await stack.temporal.workflow.getHandle(intentWorkflowId(id)).describe();
  expect((await stack.db.intent.findUniqueOrThrow({ where: { id } })).runId).toBe(runId);
});

test("a withdrawn intent's key no longer replays it: the next request with the key makes a new intent", async () => {
  // The API withdraws a row only while no run exists (withdrawUnconfirmed): recorded, never started, withdrawn.
  // (Terminating a started run first would race its first write, whose audit event keeps the row.)
  const key = `withdrawn-${randomUUID()}`;
  const text = 'Build a TypeScript module that reverses strings';
  const id = randomUUID();
  const requestHash = createHash('sha256')
    .update(JSON.stringify(['default', text, null]))
    .digest('hex');
  await stack.db.intent.create({
    data: { id, tenant: 'default', text, workflowId: intentWorkflowId(id), idempotencyKey: key, requestHash },
  });
  await stack.db.intent.delete({ where: { id } });
  const again = await submit(text, key);
  expect(again.status).toBe(202);
  expect(again.headers.get('idempotent-replayed')).toBeNull();
  expect(again.body.id).not.toBe(id);
  expect(await stack.db.intent.count({ where: { idempotencyKey: key } })).toBe(1);
});

test('a run whose intent row never committed (an orphan) fails at its first write with a clear cause, not forever', async () => {
  const id = randomUUID();
  const handle = await stack.temporal.workflow.start<typeof intentWorkflow>('intentWorkflow', {
    taskQueue: stack.config.temporal.taskQueue,
    workflowId: intentWorkflowId(id),
    args: [
      {
        intentId: id,
        text: 'Build a TypeScript module that formats greetings',
        tenant: 'default',
        policy: {
          gateTimeout: '1h',
          autoApprove: false,
          maxConcurrency: 1,
          maxPlanTasks: 4,
          failurePolicy: 'fail-fast',
        },
      },
    ],
  });
  const error = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  // The workflow fails with the read-model write's failure (as is, or wrapped as the activity's).
  let cause = (error as WorkflowFailedError).cause;
  if (cause instanceof ActivityFailure) cause = cause.cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe('IntentNotRecorded');
  expect(cause!.message).toMatch(new RegExp(`intent ${id} has no row in the read model`));
  // It failed on its first attempt: a missing row is not retried (the bounded retry covers other failures).
  const history = await handle.fetchHistory();
  const failed = (history.events ?? []).flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_local_activity' || !marker.failure) return [];
    const data = marker.details?.data?.payloads?.[0]?.data;
    return data ? [JSON.parse(Buffer.from(data).toString('utf8')) as { attempt: number }] : [];
  });
  // (The first write, then the write of the failure itself: each gave up on its first attempt.)
  expect(failed.length).toBeGreaterThan(0);
  expect(failed.every((marker) => marker.attempt === 1)).toBe(true);
  expect(await stack.db.intent.count({ where: { id } })).toBe(0);
});
