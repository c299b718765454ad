import { planKey } from '../adapters/storage/artifacts';
import { readArchive } from '../capsule/archive-reader';
import type { Plan } from '../contracts/plan';
import { call } from './support/api';
import {
  createStackKeys,
  eventually,
  openStack,
  startWorker,
  type RunningWorker,
  type TestStack,
} from './support/stack';
import { untilStatus } from './support/where';

// The human gates on the real stack (offline catalogue): a plan gate an approver edits before any agent
// runs; a release gate where changes are requested, the named task re-runs as a new child and v2 comes
// back with its diff; the capsule says v2 and keeps the plan's and v1's decisions; the version limit holds.

let stack: TestStack;
let worker: RunningWorker;
const ESCALATES = 'hitl-escalates';
const LATER = 'hitl-escalates-later';

beforeAll(async () => {
  // Two versions at most: one request for changes, then approve or reject.
  stack = await openStack('hitl-versions', (config) => ({
    ...config,
    security: {
      ...config.security,
      defaults: { ...config.security.defaults, maxVersions: 2 },
      tenants: {
        // Escalated to admins after a second (and they may then decide), or only after an hour.
        [ESCALATES]: { gateEscalateAfter: '1s', gateEscalateTo: 'ops-leads', gateEscalateRole: 'admin' },
        [LATER]: { gateEscalateAfter: '1h', gateEscalateRole: 'admin' },
      },
    },
  }));
  worker = await startWorker(stack);
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

const intentUrl = (id: string) => `${stack.apiUrl}/intents/${id}`;
const view = async (id: string, token?: string) => (await call(intentUrl(id), token ? { token } : {})).body;

/** Sends a decision as the stack's approver, bound to the digest the open gate shows. */
async function decide(id: string, body: Record<string, unknown>) {
  const digest = (await view(id)).gate?.digest;
  return call(`${intentUrl(id)}/decision`, { body: { digest, ...body }, token: stack.keys.approver });
}

/** Waits until the gate the test expects is open (failing at once if the intent ended instead). */
async function untilGate(id: string, predicate: (gate: any) => boolean, token?: string) {
  return eventually(async () => {
    const intent = await view(id, token);
    if (['FAILED', 'REJECTED', 'COMPLETED', 'CANCELLED'].includes(intent.status)) {
      throw new Error(`intent ended ${intent.status}: ${intent.reason}`);
    }
    return intent.status === 'AWAITING_APPROVAL' && predicate(intent.gate) ? intent : undefined;
  }, `intent ${id}'s gate`);
}

test('plan gate → edited plan approved → agents run; request changes → v2 re-run, validated, approved; capsule says v2 with the history', async () => {
  const submitted = await call(`${stack.apiUrl}/intents`, {
    body: { text: 'Build an inventory tracker for warehouse pallets', planReview: true },
  });
  expect(submitted.status).toBe(202);
  const id = submitted.body.id as string;

  // The plan gate: open before any agent ran, bound to the plan's digest.
  const atPlan = await untilGate(id, (gate) => gate?.id === 'plan');
  expect(atPlan.gate).toMatchObject({ state: 'open', id: 'plan', roles: ['approver'] });
  expect(atPlan.gate.digest).toMatch(/^[0-9a-f]{64}$/);
  const plan = await stack.store.getJson<Plan>(planKey(id));
  const needed = plan.tasks.find((t) => plan.tasks.some((other) => other.dependencies.includes(t.id)))!;
  const leaf = plan.tasks.find((t) => !plan.tasks.some((other) => other.dependencies.includes(t.id)))!;
  const code = plan.tasks.find((t) => t.type === 'codegen')!;
  // The intent view lists the plan's tasks under review, none started.
  expect(atPlan.tasks.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual(
    plan.tasks.map((t) => [t.id, 'PENDING']),
  );

  // An edit that would leave a task without what it needs is refused, naming why; nothing is recorded.
  const broken = await decide(id, { decision: 'approve', planEdit: { remove: [needed.id] } });
  expect(broken.status).toBe(400);
  expect(broken.body.detail).toContain('depend');
  // request_changes belongs to the release gate.
  const early = await decide(id, { decision: 'request_changes', reason: 'not yet' });
  expect(early.status).toBe(400);

  const approvedPlan = await decide(id, {
    decision: 'approve',
    reason: 'plan is fine without the leaf task',
    planEdit: { remove: [leaf.id], describe: [{ task: code.id, description: `${code.description} (reviewed)` }] },
  });
  expect(approvedPlan.status).toBe(200);

  // The release gate, v1: the removed task never ran, the plan gate's decision is in the history.
  const v1 = await untilGate(id, (gate) => gate?.id === 'release');
  expect(v1.tasks.map((t: { id: string }) => t.id)).not.toContain(leaf.id);
  expect(v1.gate.version).toBe(1);
  expect(v1.gate.history).toHaveLength(1);
  expect(v1.gate.history[0]).toMatchObject({
    id: 'plan',
    decision: { decision: 'approve', planEdit: { remove: [leaf.id] } },
  });
  const v1Digest = v1.gate.digest;

  const comment = 'name the exported types after the pallets domain';
  const changes = await decide(id, {
    decision: 'request_changes',
    reason: 'small changes before release',
    changes: [{ task: code.id, comment }],
  });
  expect(changes.status).toBe(200);

  // v2 at the gate: the named task (and what depends on it) re-ran as new children; v1's decision is kept.
  const v2 = await untilGate(id, (gate) => gate?.id === 'release' && gate.version === 2);
  expect(v2.gate.history.map((g: any) => [g.id, g.version ?? null, g.decision.decision])).toEqual([
    ['plan', null, 'approve'],
    ['release', 1, 'request_changes'],
  ]);
  expect(v2.gate.history[1].digest).toBe(v1Digest);
  expect(v2.gate.history[1].decision.changes).toEqual([{ task: code.id, comment }]);
  const child = await stack.temporal.workflow.getHandle(`intent-${id}/task-${code.id}-v2`).describe();
  expect(child.status.name).toBe('COMPLETED');
  expect(v2.validation.score.verdict).toBeDefined();
  const drop = await call(`${intentUrl(id)}/drops/release`, { token: stack.keys.approver });
  expect(drop.status).toBe(200);
  expect(drop.body).toMatchObject({ version: 2, previousVersion: 1 });

  // At the last version allowed, changes can no longer be requested.
  const limit = await decide(id, { decision: 'request_changes', reason: 'again' });
  expect(limit.status).toBe(409);
  expect(limit.body.detail).toContain('version 2 of at most 2');

  expect((await decide(id, { decision: 'approve', reason: 'v2 reviewed' })).status).toBe(200);
  const done = await untilStatus<any>(stack, id, ['COMPLETED', 'FAILED']);
  expect(done.status).toBe('COMPLETED');
  expect(done.capsule.version).toBe(2);

  const download = await fetch(`${stack.apiUrl}/capsules/${done.capsule.id}/download`, {
    headers: { authorization: `Bearer ${stack.keys.approver}` },
  });
  expect(download.status).toBe(200);
  const entries = await readArchive(Buffer.from(await download.arrayBuffer()));
  const approval = JSON.parse(entries.find((e) => e.path === 'approval.json')!.content.toString('utf8'));
  expect(approval).toMatchObject({ decision: 'approve', version: 2 });
  expect(approval.history).toEqual([
    expect.objectContaining({ gate: 'plan', decision: 'approve' }),
    expect.objectContaining({
      gate: 'release',
      version: 1,
      decision: 'request_changes',
      digest: v1Digest,
      changes: [{ task: code.id, file: null, comment }],
    }),
  ]);
  const manifest = JSON.parse(entries.find((e) => e.path === 'capsule.json')!.content.toString('utf8'));
  expect(manifest.version).toBe(2);
});

test('a rejected plan ends the intent before any agent runs', async () => {
  const submitted = await call(`${stack.apiUrl}/intents`, {
    body: { text: 'A CLI tool to track nightly sales reports', planReview: true },
  });
  const id = submitted.body.id as string;
  await untilGate(id, (gate) => gate?.id === 'plan');
  expect((await decide(id, { decision: 'reject', reason: 'wrong scope' })).status).toBe(200);
  const rejected = await untilStatus<any>(stack, id, ['REJECTED', 'FAILED', 'COMPLETED']);
  expect(rejected).toMatchObject({ status: 'REJECTED', statusReason: 'wrong scope' });
  expect(rejected.gate).toMatchObject({ id: 'plan', state: 'decided', decision: { decision: 'reject' } });
  expect(rejected.tasks.every((t: { status: string }) => t.status === 'PENDING')).toBe(true);
  const history = await stack.temporal.workflow.getHandle(`intent-${id}`).fetchHistory();
  const children = (history.events ?? []).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  expect(children).toHaveLength(0);
});

test('an escalation that names a role widens who may decide: admins decide only once the gate escalated', async () => {
  for (const [tenant, escalates] of [
    [LATER, false],
    [ESCALATES, true],
  ] as const) {
    const keys = await createStackKeys(stack.db, tenant, tenant);
    const submitted = await call(`${stack.apiUrl}/intents`, {
      body: { text: 'A REST API for books with title and author' },
      token: keys.submitter,
    });
    const id = submitted.body.id as string;
    const asAdmin = async () => {
      const digest = (await call(intentUrl(id), { token: keys.admin })).body.gate?.digest;
      return call(`${intentUrl(id)}/decision`, { body: { decision: 'approve', digest }, token: keys.admin });
    };
    if (!escalates) {
      const open = await untilGate(id, (gate) => gate?.id === 'release', keys.submitter);
      expect(open.gate.roles).toEqual(['approver']);
      const refused = await asAdmin();
      expect(refused.status).toBe(403);
      continue;
    }
    const escalated = await untilGate(id, (gate) => gate?.escalated !== undefined, keys.submitter);
    expect(escalated.gate.escalated.to).toBe('ops-leads');
    expect(escalated.gate.roles).toEqual(['approver', 'admin']);
    expect((await asAdmin()).status).toBe(200);
    const done = await eventually(async () => {
      const intent = await view(id, keys.submitter);
      return ['COMPLETED', 'FAILED', 'REJECTED'].includes(intent.status) ? intent : undefined;
    }, `intent ${id} to finish`);
    expect(done.status).toBe('COMPLETED');
    expect(done.gate.decision.approvals[0].roles).toEqual(['admin']);
  }
});
