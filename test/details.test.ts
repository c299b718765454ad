import type { IntentState } from '../contracts/state';
import { renderDetails } from '../workflows/details';

// What ops read in the Web UI's current details while an intent waits at the gate.

const atGate = (validation: IntentState['validation']): IntentState => ({
  intentId: 'i',
  status: 'AWAITING_APPROVAL',
  tasks: [],
  validation,
  gate: { state: 'open' },
});
const typecheck = { status: 'passed' as const, filesChecked: 3, errorCount: 0, firstErrors: [] };

test('the gate shows the verdict, the scores and what the tests did in the sandbox, with the first problems', () => {
  const text = renderDetails(
    atGate({
      typecheck,
      reportKey: 'k',
      score: {
        verdict: 'failed',
        reasons: ['1 test(s) failed in the sandbox'],
        scores: { overall: 87, security: 100, quality: 59, compliance: 100 },
        counts: { critical: 0, high: 1, medium: 0, low: 0, info: 0 },
        reportKey: 'r',
        sarifKey: 's',
        topRecommendations: [],
      },
      dynamic: {
        status: 'assessed',
        reportKey: 'd',
        driver: 'docker',
        outcome: 'failed',
        tests: { passed: 3, failed: 1, skipped: 0 },
        limitHits: [],
        problems: ['test failed: adds'],
        durationMs: 900,
        startupMs: 110,
      },
    }),
  );
  expect(text).toContain('Validation: **failed** — overall 87, security 100, quality 59, compliance 100');
  expect(text).toContain('Sandbox (docker): failed, 3 tests passed, 1 failed\n- test failed: adds');
});

test('a layer 2 that could not run says why', () => {
  const text = renderDetails(
    atGate({ typecheck, reportKey: 'k', dynamic: { status: 'not_assessed', reason: 'no isolation available' } }),
  );
  expect(text).toContain('Sandbox: not assessed — no isolation available');
});

test('text people typed shows literally, and a decision says how and when it was taken', () => {
  const text = renderDetails({
    intentId: 'i',
    status: 'PACKAGING',
    tasks: [],
    gate: {
      state: 'decided',
      decision: {
        decision: 'approve',
        approver: '**APPROVED by CISO**',
        reason: '<img src=x onerror=alert(1)> see [here](http://x)',
        via: 'update',
        decidedAt: '2026-11-30T02:13:56.000Z',
      },
    },
  });
  expect(text).toContain(
    'Decision: approve by \\*\\*APPROVED by CISO\\*\\* (via update) at 2026-11-30T02:13:56.000Z — ' +
      '&lt;img src=x onerror=alert\\(1\\)&gt; see \\[here\\]\\(http://x\\)',
  );
});

test('ignored decision signals are listed with why, without the control characters they carried', () => {
  const text = renderDetails({
    ...atGate(undefined),
    ignoredDecisions: {
      count: 12,
      latest: [{ at: '2026-11-30T02:13:56.000Z', approver: 'ops\ufffd', reason: 'malformed decision: approver: …' }],
    },
  });
  expect(text).toContain('Ignored `decision` signals: 12 (latest 1)');
  expect(text).toContain('- 2026-11-30T02:13:56.000Z from ops\ufffd: malformed decision: approver: …');
});

test('an open gate that needs two approvers says who has approved and what is under review', () => {
  const approval = {
    decision: 'approve' as const,
    subject: 'key:abc',
    name: '*alice*',
    roles: ['approver'],
    tenants: ['default'],
    method: 'api-key' as const,
    via: 'update' as const,
    decidedAt: '2026-11-30T02:13:56.000Z',
  };
  const text = renderDetails({
    ...atGate({ typecheck, reportKey: 'k' }),
    gate: { state: 'open', required: 2, approvals: [approval], digest: 'ab'.repeat(32) },
  });
  expect(text).toContain('Approvals: 1 of 2 (\\*alice\\*)');
  expect(text).toContain(`Review digest: \`${'ab'.repeat(32)}\``);
});

test('an open gate tells an ops person which gate, until when, who may decide and exactly what to send', () => {
  const state = atGate({ typecheck, reportKey: 'k' });
  const gate = {
    state: 'open' as const,
    id: 'release' as const,
    deadline: '2026-12-07T10:00:00.000Z',
    roles: ['approver'],
    required: 1,
    approvals: [],
    digest: 'cd'.repeat(32),
  };
  const signed = renderDetails({ ...state, gate: { ...gate, unsignedSignals: 'refuse' } });
  expect(signed).toContain('**Gate `release` is open**; rejects at 2026-12-07T10:00:00.000Z unless decided.');
  expect(signed).toContain('Approvals: 0 of 1 by the `approver` role');
  expect(signed).toContain('update `submitDecision` or the');
  expect(signed).toContain(
    `signal \`decision\` with \`{"token": "…"}\`, the signed decision from \`qlp approve ${state.intentId} --token\``,
  );
  expect(signed).not.toContain('unsigned');
  // Where the deployment takes unsigned signals, the JSON to send is spelled out.
  const lenient = renderDetails({ ...state, gate: { ...gate, unsignedSignals: 'accept' } });
  expect(lenient).toContain('`{"decision": "approve", "approver": "you@example.com", "reason": "…"}`');
});
