import { Context } from '@temporalio/activity';
import { decisionSignal } from '../workflows/messages';
import { call, decide } from './support/api';
import { approvedAuditTrail } from './support/audit';
import { ExecutionCounter } from './support/counting';
import { eventually, openStack, startWorker, type TestStack } from './support/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await openStack('durability');
});

afterAll(async () => {
  await stack?.close();
});

const statusOf = async (id: string) => (await call(`${stack.apiUrl}/intents/${id}`)).body;

test('an intent survives its worker stopping mid-tasks and at the gate, and finished activities never run again', async () => {
  const counter = new ExecutionCounter();
  let releaseCheck!: () => void;
  const checkReleased = new Promise<void>((resolve) => (releaseCheck = resolve));
  // Hold the `check` task's agent in flight until the first worker is gone.
  counter.gate = async (key) => {
    if (key === 'runAgent:check') await Promise.race([checkReleased, Context.current().cancelled]);
  };
  const workerOptions = { wrapActivities: counter.wrap, shutdownGraceTime: '200ms' } as const;

  const first = await startWorker(stack, workerOptions);
  const { body: submitted } = await call(`${stack.apiUrl}/intents`, { body: { text: 'Build a ledger service' } });
  await eventually(
    async () => (counter.started.get('runAgent:check') && counter.completed.get('runAgent:readme') ? true : undefined),
    'the check task to be in flight and the readme task done',
  );
  expect((await statusOf(submitted.id)).status).toBe('EXECUTING');
  const early = await decide(
    stack.apiUrl,
    submitted.id,
    { decision: 'approve', digest: '0'.repeat(64) },
    stack.keys.approver,
  );
  expect(early.status).toBe(409);
  expect(early.body.detail).toBe('intent is EXECUTING, not awaiting a decision');
  await first.stop();

  releaseCheck();
  const second = await startWorker(stack, workerOptions);
  await eventually(
    async () => ((await statusOf(submitted.id)).status === 'AWAITING_APPROVAL' ? true : undefined),
    'the gate',
  );
  await second.stop();

  // With no worker running, a signal (a decision the API signed, as `qlp approve --token` gives ops) is
  // still recorded durably; the next worker acts on it.
  const signed = await decide(
    stack.apiUrl,
    submitted.id,
    { decision: 'approve', reason: 'approved while workers restarted' },
    stack.keys.approver,
    'decision-token',
  );
  expect(signed.status).toBe(200);
  await stack.temporal.workflow.getHandle(submitted.workflowId).signal(decisionSignal, { token: signed.body.token });
  const third = await startWorker(stack, workerOptions);
  const done = await eventually(async () => {
    const intent = await statusOf(submitted.id);
    return intent.status === 'COMPLETED' ? intent : undefined;
  }, 'completion');
  await third.stop();

  expect(done.gate.decision).toMatchObject({ approver: 'durability-approver', via: 'signal', authenticated: true });
  expect(Object.fromEntries(counter.completed)).toEqual({
    findSimilarIntents: 1,
    parseIntent: 1,
    'runAgent:module': 1,
    'runAgent:check': 1,
    'runAgent:readme': 1,
    validateProject: 1,
    staticReview: 1,
    complianceReview: 1,
    dynamicValidation: 1,
    scoreValidation: 1,
    buildDrop: 1,
    packageCapsule: 1,
    recordIntent: 6, // PLANNING, EXECUTING, VALIDATING, AWAITING_APPROVAL, PACKAGING, COMPLETED
    recordTask: 6, // RUNNING and COMPLETED for each of the three tasks
  });
  // The agent in flight when the first worker stopped ran a second time; nothing that had completed ran
  // again (each completed exactly once, above). An attempt cut off before completing (a stop, or a heartbeat
  // timeout on an overloaded machine) may run again: that is the retry doing its job.
  expect(counter.started.get('runAgent:check')).toBe(2);
  const audit = await stack.db.auditEvent.findMany({ where: { intentId: submitted.id }, orderBy: { id: 'asc' } });
  // The early decision was refused, and the refusal is in the trail, by whom and why.
  const refused = approvedAuditTrail.indexOf('intent.executing') + 1;
  expect(audit.map((event) => event.type)).toEqual([
    ...approvedAuditTrail.slice(0, refused),
    'intent.decision_refused',
    ...approvedAuditTrail.slice(refused),
  ]);
  expect(audit[refused]?.data).toMatchObject({ refusal: 'NotAwaitingDecision', decision: 'approve' });
});
