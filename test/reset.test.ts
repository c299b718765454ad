import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { extract } from 'tar';
import { recordIntent, recordTask, supersedes } from '../adapters/db/read-model';
import type { CapsuleManifest } from '../capsule/manifest';
import type { IntentProjection } from '../contracts/state';
import { ensureTool } from '../scripts/services';
import { call, decide } from './support/api';
import { approverKey, eventually, openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';

// `temporal workflow reset`, the documented remedy for a wrong outcome, starts a new run of the same
// workflow whose steps count from where the reset landed. The read model and audit trail follow it.

let stack: TestStack;
let worker: RunningWorker;

beforeAll(async () => {
  stack = await openStack('reset');
  worker = await startWorker(stack);
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

const intentOf = async (id: string) => (await call(`${stack.apiUrl}/intents/${id}`)).body;

async function waitForStatus(id: string, status: string) {
  return eventually(async () => {
    const body = await intentOf(id);
    return body.status === status ? body : undefined;
  }, `intent ${id} to reach ${status}`);
}

const auditOf = (id: string) => stack.db.auditEvent.findMany({ where: { intentId: id }, orderBy: { id: 'asc' } });

test('a rejected intent reset to its gate and then approved reads as approved everywhere', async () => {
  const submitted = await call(`${stack.apiUrl}/intents`, { body: { text: 'Build a ledger module' } });
  expect(submitted.status).toBe(202);
  const { id, workflowId } = submitted.body as { id: string; workflowId: string };
  await waitForStatus(id, 'AWAITING_APPROVAL');
  const rejected = await decide(
    stack.apiUrl,
    id,
    { decision: 'reject', reason: 'wrong module name' },
    await approverKey(stack, 'first@example.com'),
  );
  expect(rejected.status).toBe(200);
  await waitForStatus(id, 'REJECTED');

  // Back to the workflow task that opened the gate (the one that started the gate's timeout timer):
  // the new run opens the gate again and waits for a decision.
  const handle = stack.temporal.workflow.getHandle(workflowId);
  const firstRunId = (await handle.describe()).runId;
  const history = await handle.fetchHistory();
  const gateTimer = history.events!.find((e) => e.timerStartedEventAttributes);
  const gateTask = Number(gateTimer!.timerStartedEventAttributes!.workflowTaskCompletedEventId);
  const { address, namespace } = stack.config.temporal;
  const temporalCli = await ensureTool('temporal', stack.config.toolsDir, {
    temporalPath: stack.config.temporal.cliPath,
  });
  await promisify(execFile)(temporalCli, [
    'workflow',
    'reset',
    '--address',
    address,
    '--namespace',
    namespace,
    '--workflow-id',
    workflowId,
    '--event-id',
    String(gateTask),
    '--reason',
    'ops retry',
    // The rejection came after that point: re-applied, it would decide the reopened gate again.
    '--reapply-exclude',
    'All',
  ]);
  const newRunId = (await handle.describe()).runId;
  expect(newRunId).not.toBe(firstRunId);

  const reopened = await waitForStatus(id, 'AWAITING_APPROVAL');
  expect(reopened.gate).toMatchObject({ state: 'open', approvals: [] });
  expect(reopened.statusReason).toBeNull();
  expect(reopened.completedAt).toBeNull();

  const approved = await decide(
    stack.apiUrl,
    id,
    { decision: 'approve', reason: 'renamed after review' },
    await approverKey(stack, 'second@example.com'),
  );
  expect(approved.status).toBe(200);
  const done = await waitForStatus(id, 'COMPLETED');
  expect(done.statusReason).toBeNull();
  expect(done.gate).toMatchObject({
    state: 'decided',
    decision: { decision: 'approve', approver: 'second@example.com', reason: 'renamed after review', via: 'update' },
  });
  expect(done.capsule).toMatchObject({ location: expect.stringContaining(`capsules/${id}/`) });
  expect(await stack.db.intent.findUnique({ where: { id }, select: { runId: true } })).toEqual({ runId: newRunId });

  const audit = await auditOf(id);
  expect(audit.map((e) => e.type)).toEqual([
    'intent.planning',
    'intent.executing',
    'intent.validating',
    'intent.awaiting_approval',
    'intent.rejected',
    'intent.run_replaced',
    'intent.awaiting_approval',
    'intent.approved',
    'intent.completed',
  ]);
  expect(audit.find((e) => e.type === 'intent.rejected')?.actor).toBe('first@example.com');
  expect(audit.find((e) => e.type === 'intent.approved')?.actor).toBe('second@example.com');
  expect(audit.find((e) => e.type === 'intent.run_replaced')?.data).toEqual({
    previousRunId: firstRunId,
    runId: newRunId,
    cause: 'reset',
    previousStatus: 'REJECTED',
    status: 'AWAITING_APPROVAL',
  });

  // The capsule the API serves was built by the new run and says who approved it.
  const download = await fetch(`${stack.apiUrl}${(done.capsule.download as string).replace('/api/v1', '')}`, {
    headers: { authorization: `Bearer ${stack.keys.submitter}` },
  });
  expect(download.status).toBe(200);
  const dir = await mkdtemp(join(tmpdir(), 'qlp-reset-test-'));
  try {
    await writeFile(join(dir, 'capsule.tar.gz'), Buffer.from(await download.arrayBuffer()));
    await extract({ file: join(dir, 'capsule.tar.gz'), cwd: dir });
    const manifest = JSON.parse(await readFile(join(dir, 'capsule.json'), 'utf8')) as CapsuleManifest;
    expect(manifest.approval).toMatchObject({
      decision: 'approve',
      approver: 'second@example.com',
      reason: 'renamed after review',
    });
    expect(manifest.provenance).toEqual({ workflowId, runId: newRunId });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

describe('the ordering rule', () => {
  const at = (second: number) => new Date(Date.UTC(2026, 11, 1, 12, 0, second)).toISOString();
  const run = (id: string, second: number) => ({ id, at: at(second) });

  test('same run by seq, another run by workflow time', () => {
    const row = { runId: 'a', seq: 5, stepAt: new Date(at(10)) };
    expect(supersedes({ seq: 6, run: run('a', 10) }, row)).toBe(true);
    expect(supersedes({ seq: 5, run: run('a', 11) }, row)).toBe(false); // a retried write
    expect(supersedes({ seq: 1, run: run('b', 11) }, row)).toBe(true); // a new run starts again at 1
    expect(supersedes({ seq: 9, run: run('b', 9) }, row)).toBe(false); // a replaced run's late write
    expect(supersedes({ seq: 1, run: run('b', 0) }, { runId: null, seq: 0, stepAt: null })).toBe(true);
    expect(supersedes({ seq: 3 }, row)).toBe(false); // code older than run tracking: seq only
  });

  async function newIntent() {
    const id = randomUUID();
    await stack.db.intent.create({ data: { id, text: 'ordering', workflowId: `intent-${id}`, runId: 'run-a' } });
    return id;
  }

  const write = (intentId: string, p: Omit<IntentProjection, 'intentId' | 'audit'> & { type?: string }) =>
    recordIntent(stack.db, {
      intentId,
      ...p,
      audit: { type: p.type ?? `intent.${p.status.toLowerCase()}`, actor: 'workflow' },
    });

  test("an older run's late write does not overwrite the newer run's state", async () => {
    const id = await newIntent();
    const plan = {
      tasks: [{ id: 't1', type: 'codegen', description: 'd', dependencies: [], priority: 0 }],
    } as unknown as IntentProjection['plan'];
    await write(id, { seq: 1, run: run('run-a', 1), status: 'EXECUTING', plan });
    await write(id, { seq: 2, run: run('run-a', 2), status: 'REJECTED', reason: 'no', gate: { state: 'timed_out' } });
    await recordTask(stack.db, { intentId: id, taskId: 't1', seq: 2, run: run('child-a', 2), state: 'COMPLETED' });

    // The new run (a reset) starts its seq again; its writes win over the old run's higher seq.
    await write(id, {
      seq: 1,
      run: { ...run('run-b', 10), startedBy: 'reset' },
      status: 'AWAITING_APPROVAL',
      gate: { state: 'open' },
    });
    await recordTask(stack.db, { intentId: id, taskId: 't1', seq: 1, run: run('child-b', 11), state: 'RUNNING' });
    // The old run's late writes (an in-flight local activity) change nothing and record nothing.
    await write(id, { seq: 3, run: run('run-a', 3), status: 'FAILED', reason: 'late', gate: null });
    await recordTask(stack.db, { intentId: id, taskId: 't1', seq: 2, run: run('child-a', 3), state: 'FAILED' });
    // A retried write of the new run is a duplicate.
    await write(id, { seq: 1, run: run('run-b', 12), status: 'AWAITING_APPROVAL', gate: { state: 'open' } });

    const row = await stack.db.intent.findUniqueOrThrow({ where: { id }, include: { tasks: true } });
    expect(row).toMatchObject({
      status: 'AWAITING_APPROVAL',
      statusReason: null,
      gate: { state: 'open' },
      completedAt: null,
      runId: 'run-b',
      seq: 1,
      stepAt: new Date(at(10)),
    });
    expect(row.tasks.map((t) => [t.taskId, t.status, t.runId])).toEqual([['t1', 'RUNNING', 'child-b']]);
    const audit = await auditOf(id);
    expect(audit.map((e) => [e.type, e.eventKey])).toEqual([
      ['intent.executing', `${id}:run-a:1`],
      ['intent.rejected', `${id}:run-a:2`],
      ['intent.run_replaced', `${id}:run-b:run`],
      ['intent.awaiting_approval', `${id}:run-b:1`],
    ]);
    expect(audit[2]!.data).toEqual({
      previousRunId: 'run-a',
      runId: 'run-b',
      cause: 'reset',
      previousStatus: 'REJECTED',
      status: 'AWAITING_APPROVAL',
    });
  });

  test('a new run that packages again replaces the capsule of the run it replaced', async () => {
    const id = await newIntent();
    const capsule = (capsuleId: string, sha256: string) => ({
      capsuleId,
      version: 1,
      bucket: 'b',
      key: `capsules/${id}/${id}-v1.tar.gz`,
      sha256,
      size: 10,
      fileCount: 1,
    });
    const first = randomUUID();
    const second = randomUUID();
    await write(id, { seq: 7, run: run('run-a', 1), status: 'COMPLETED', capsule: capsule(first, 'aa') });
    await write(id, { seq: 7, run: run('run-b', 5), status: 'COMPLETED', capsule: capsule(second, 'bb') });
    const row = await stack.db.intent.findUniqueOrThrow({ where: { id }, include: { capsules: true } });
    expect(row.capsules).toEqual([expect.objectContaining({ id: second, sha256: 'bb' })]);
  });
});
