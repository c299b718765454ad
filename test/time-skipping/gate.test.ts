import { capsule, useHarness } from './harness';

// The human gate's 7-day timer, on a test server that skips time instead of waiting for it.

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const harness = useHarness();

test('an intent nobody decides on is rejected when the 7-day gate times out', async () => {
  const { env } = harness();
  const wallStart = performance.now();
  const serverStart = await env.currentTimeMs();
  const intent = await harness().start({ policy: { gateTimeout: '7d', autoApprove: false } });
  expect(await intent.waitForTimer()).toEqual([7 * DAY]); // the gate's timer, and no other
  expect(await intent.status()).toMatchObject({ status: 'AWAITING_APPROVAL', gate: { state: 'open' } });

  expect(await intent.handle.result()).toEqual({ status: 'REJECTED', reason: 'no decision within 7d' });

  const ran = await intent.runTimeMs();
  expect(ran).toBeGreaterThanOrEqual(7 * DAY);
  expect(ran).toBeLessThan(8 * DAY);
  expect((await env.currentTimeMs()) - serverStart).toBeGreaterThanOrEqual(7 * DAY);
  expect(performance.now() - wallStart).toBeLessThan(30_000);
  const { status, gate } = await intent.status();
  expect(status).toBe('REJECTED');
  expect(gate).toEqual({
    state: 'timed_out',
    id: 'release',
    deadline: expect.any(String),
    drop: {
      gate: 'release',
      version: 1,
      key: expect.stringMatching(/drops\/release-v1\.json$/),
      sha256: expect.any(String),
    },
    decision: {
      decision: 'reject',
      approver: 'policy:gate-timeout',
      reason: 'no decision within 7d',
      via: 'timeout',
      decidedAt: expect.any(String),
    },
  });
  // Workflow time: the decision is stamped 7 days after the start, although the test took seconds.
  const decidedAfter = Date.parse(gate!.decision!.decidedAt!) - serverStart;
  expect(decidedAfter).toBeGreaterThanOrEqual(7 * DAY);
  expect(decidedAfter).toBeLessThan(8 * DAY);
  // The deadline the Web UI showed is when it rejected (both workflow time).
  expect(Date.parse(gate!.decision!.decidedAt!) - Date.parse(gate!.deadline!)).toBeGreaterThanOrEqual(0);
  expect(Date.parse(gate!.decision!.decidedAt!) - Date.parse(gate!.deadline!)).toBeLessThan(60_000);
  expect(intent.recordedStatuses().at(-1)).toBe('REJECTED');
  expect(intent.calls('recordIntent').at(-1)!.input.gate.state).toBe('timed_out');
  expect(intent.calls('packageCapsule')).toHaveLength(0);
});

test('an approval sent 3 days into the gate wins over the timeout', async () => {
  const { env } = harness();
  const intent = await harness().start({ policy: { gateTimeout: '7d' } });
  expect(await intent.waitForTimer()).toEqual([7 * DAY]);
  const gateOpened = await env.currentTimeMs();

  await env.sleep('3 days');
  expect((await env.currentTimeMs()) - gateOpened).toBeGreaterThanOrEqual(3 * DAY);
  const open = (await intent.status()).gate;
  expect(open).toEqual({ state: 'open', id: 'release', deadline: expect.any(String), drop: expect.any(Object) }); // 3 of 7 days: still waiting
  expect(Date.parse(open!.deadline!) - gateOpened).toBeGreaterThanOrEqual(7 * DAY - 60_000);
  expect(Date.parse(open!.deadline!) - gateOpened).toBeLessThanOrEqual(7 * DAY);

  const decided = await intent.handle.executeUpdate('submitDecision', {
    args: [{ decision: 'approve', approver: 'ops@example.com', reason: 'reviewed' }],
  });
  expect(decided).toMatchObject({ decision: 'approve', approver: 'ops@example.com', via: 'update' });
  expect(Date.parse((decided as { decidedAt: string }).decidedAt) - gateOpened).toBeGreaterThanOrEqual(3 * DAY); // workflow time

  expect(await intent.handle.result()).toEqual({ status: 'COMPLETED', capsule: capsule(intent.intentId) });
  const ran = await intent.runTimeMs();
  expect(ran).toBeGreaterThanOrEqual(3 * DAY);
  expect(ran).toBeLessThan(7 * DAY); // decided before the gate timer fired
  expect(intent.calls('packageCapsule')).toHaveLength(1);
  expect(intent.calls('packageCapsule')[0]!.input.approval).toMatchObject({ approver: 'ops@example.com' });
  expect((await intent.status()).gate).toMatchObject({ state: 'decided', decision: { via: 'update' } });
  expect(intent.recordedStatuses().slice(-2)).toEqual(['PACKAGING', 'COMPLETED']);
});

test('a rejection signalled an hour before the deadline is the one recorded', async () => {
  const { env } = harness();
  const intent = await harness().start({ policy: { gateTimeout: '7d' } });
  expect(await intent.waitForTimer()).toEqual([7 * DAY]);

  await env.sleep('167 hours');
  await intent.handle.signal('decision', { decision: 'reject', approver: 'ops@example.com', reason: 'wrong stack' });

  expect(await intent.handle.result()).toEqual({ status: 'REJECTED', reason: 'wrong stack' });
  const ran = await intent.runTimeMs();
  expect(ran).toBeGreaterThanOrEqual(167 * HOUR);
  expect(ran).toBeLessThan(7 * DAY);
  expect((await intent.status()).gate).toMatchObject({
    state: 'decided',
    decision: { decision: 'reject', approver: 'ops@example.com', via: 'signal' },
  });
  expect(intent.calls('packageCapsule')).toHaveLength(0);
});

test('an auto-approved intent never opens the gate, so no timer runs', async () => {
  const intent = await harness().start({ policy: { autoApprove: true } });

  expect(await intent.handle.result()).toMatchObject({ status: 'COMPLETED' });
  expect(await intent.runTimeMs()).toBeLessThan(HOUR);
  expect(await intent.timersMs()).toEqual([]);
  expect(intent.recordedStatuses()).not.toContain('AWAITING_APPROVAL');
  expect((await intent.status()).gate).toMatchObject({ state: 'decided', decision: { via: 'policy' } });
});
