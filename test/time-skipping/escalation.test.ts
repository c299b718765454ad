import type { GateEscalation } from '../../contracts/workflow';
import { useHarness, type Intent } from './harness';

// The gate's escalation ladder (a tenant's policy): remind at T1, escalate at T2, and at the gate's
// timeout reject or cancel — durable timers, on a test server that skips the days.

const DAY = 24 * 60 * 60 * 1000;
const harness = useHarness();

/** An identity-checking gate (unsigned signals taken, as in development) with the given ladder. */
const approval = (escalation: GateEscalation) => ({
  required: 1,
  allowSelfApproval: false,
  unauthenticatedSignals: 'accept' as const,
  publicKeys: [],
  escalation,
});

/** The ladder's audit events, each with when (workflow time) it was written. */
function ladderEvents(intent: Intent) {
  return intent
    .calls('recordIntent')
    .map((call) => call.input as { audit?: { type: string; data?: Record<string, unknown> }; run?: { at: string } })
    .filter((p) => p.audit?.type === 'intent.gate_reminder' || p.audit?.type === 'intent.gate_escalated')
    .map((p) => ({ type: p.audit!.type, data: p.audit!.data, at: Date.parse(p.run!.at) }));
}

test('an unanswered gate reminds at T1, escalates at T2 and rejects at the timeout', async () => {
  const ladder = { remindAfter: '1d', escalateAfter: '3d', escalateTo: 'ops-leads', onTimeout: 'reject' } as const;
  const intent = await harness().start({ policy: { gateTimeout: '7d', approval: approval(ladder) } });
  expect(await intent.waitForTimer()).toEqual([1 * DAY]); // the first rung
  const opened = await harness().env.currentTimeMs();

  expect(await intent.handle.result()).toEqual({ status: 'REJECTED', reason: 'no decision within 7d' });
  expect(await intent.timersMs()).toEqual([1 * DAY, 2 * DAY, 4 * DAY]);
  const events = ladderEvents(intent);
  expect(events.map((e) => [e.type, e.data?.escalatedTo])).toEqual([
    ['intent.gate_reminder', undefined],
    ['intent.gate_escalated', 'ops-leads'],
  ]);
  // Written when each rung fired, in workflow time.
  expect(events[0]!.at - opened).toBeGreaterThanOrEqual(1 * DAY - 60_000);
  expect(events[0]!.at - opened).toBeLessThan(2 * DAY);
  expect(events[1]!.at - opened).toBeGreaterThanOrEqual(3 * DAY - 60_000);
  expect(events[1]!.at - opened).toBeLessThan(4 * DAY);
  const { gate } = await intent.status();
  expect(gate).toMatchObject({
    state: 'timed_out',
    onTimeout: 'reject',
    remindedAt: expect.any(String),
    escalated: { to: 'ops-leads', at: expect.any(String) },
    decision: { approver: 'policy:gate-timeout', via: 'timeout' },
  });
  expect(intent.calls('packageCapsule')).toHaveLength(0);
});

test('a tenant whose ladder ends in cancel has the intent cancelled at the timeout, not rejected', async () => {
  const intent = await harness().start({
    policy: { gateTimeout: '2d', approval: approval({ remindAfter: '1d', onTimeout: 'cancel' }) },
  });
  expect(await intent.handle.result()).toEqual({
    status: 'CANCELLED',
    reason: 'no decision within 2d: the intent is cancelled',
  });
  expect(intent.recordedStatuses().at(-1)).toBe('CANCELLED');
  expect(ladderEvents(intent).map((e) => e.type)).toEqual(['intent.gate_reminder']);
  expect(await intent.timersMs()).toEqual([1 * DAY, 1 * DAY]);
});

test('a decision between the reminder and the escalation stops the ladder', async () => {
  const { env } = harness();
  const intent = await harness().start({
    policy: { gateTimeout: '7d', approval: approval({ remindAfter: '1d', escalateAfter: '3d', onTimeout: 'reject' }) },
  });
  expect(await intent.waitForTimer()).toEqual([1 * DAY]);
  await env.sleep('2 days'); // reminded, not yet escalated
  await intent.handle.signal('decision', { decision: 'approve', approver: 'ops@example.com', reason: 'seen it' });

  expect(await intent.handle.result()).toMatchObject({ status: 'COMPLETED' });
  expect(ladderEvents(intent).map((e) => e.type)).toEqual(['intent.gate_reminder']);
  const { gate } = await intent.status();
  expect(gate?.escalated).toBeUndefined();
  expect(gate).toMatchObject({
    state: 'decided',
    decision: { decision: 'approve', via: 'temporal-ui', authenticated: false },
  });
});
