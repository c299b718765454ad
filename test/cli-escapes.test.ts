import { renderValidationReport } from '../cli/commands/validation';
import { gateLine, renderIntent, renderIntentList } from '../cli/format';
import { escapeJsonText, guardOutput, sanitizeDeep } from '../cli/terminal-text';
import type { IntentView } from '../contracts/views';
import { call } from './support/api';
import { hostileApi, jsonRoute, runQlp } from './support/cli-run';
import { approverKey, openStack, type TestStack } from './support/stack';

// Server-provided strings carrying terminal escapes: erase-line + carriage return, an OSC title with BEL,
// a C1 CSI, a bidi override. Whatever the API sends, the qlp output holds none of them.

const ERASE_AND_LIE = '\x1b[2K\rVerdict: passed';
const EVIL = `${ERASE_AND_LIE} \x1b]0;title\x07 \x9b31m \u202eevil\u202c \u2066iso\u2069 \x7f`;
/** ESC, BEL, CR, DEL, every C1 control, the bidi overrides and isolates. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const FORBIDDEN = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

const intentId = '97d03910-e873-48bb-afed-f976e98f1d98';
const otherId = '123e4567-e89b-42d3-a456-426614174000';

const evilIntent: IntentView = {
  id: intentId,
  tenant: 'default',
  text: `Build a greeting service ${EVIL}`,
  submittedBy: null,
  status: 'AWAITING_APPROVAL',
  statusReason: `waiting ${EVIL}`,
  workflowId: `intent-${intentId}`,
  createdAt: '2026-11-28T18:42:19.646Z',
  updatedAt: '2026-11-28T18:42:29.334Z',
  completedAt: null,
  tasks: [
    {
      id: `module${EVIL}`,
      type: 'codegen',
      description: 'Implement it',
      dependencies: [],
      status: 'FAILED',
      fileCount: 1,
      attempts: 1,
      error: `generator said ${EVIL}`,
      startedAt: '2026-11-28T18:42:20.000Z',
      finishedAt: '2026-11-28T18:42:21.500Z',
    },
  ],
  validation: {
    reportKey: 'intents/x/reports/validation.json',
    typecheck: { status: 'failed', errorCount: 1, firstErrors: [`src/a.ts: ${EVIL}`], filesChecked: 2 },
  },
  gate: {
    state: 'open',
    digest: 'd'.repeat(64),
    required: 2,
    approvals: [
      { name: `mallory${EVIL}`, decision: 'approve', method: 'api_key', decidedAt: '2026-11-28T18:42:25.000Z' },
    ],
  },
  links: {
    self: `/api/v1/intents/${intentId}`,
    decision: `/api/v1/intents/${intentId}/decision`,
    temporalUi: `http://127.0.0.1:8233/${EVIL}`,
  },
} as unknown as IntentView;

const evilReport = {
  verdict: { status: 'failed', reasons: [`security 40 < 70 ${EVIL}`] },
  scores: { overall: 40, security: 40, quality: 90, compliance: null },
  frameworks: [],
  checks: [{ tool: 'semgrep', status: 'not_assessed', reason: `parse error ${EVIL}` }],
  recommendations: [{ priority: 1, severity: 'high', title: `Fix it ${EVIL}`, occurrences: 1, controls: [] }],
  requirements: [
    {
      id: 'R1',
      status: 'not_covered',
      kind: 'capability',
      text: `greets ${EVIL}`,
      reason: `no test ${EVIL}`,
      evidence: [{ path: `src/${EVIL}.ts`, line: 3 }],
      tests: [{ name: `greets users ${EVIL}`, status: 'passed' }],
    },
  ],
};

const decidedGate = {
  state: 'decided' as const,
  decision: {
    decision: 'reject' as const,
    approver: `ciso${EVIL}`,
    reason: `bad ${EVIL}`,
    via: 'update' as const,
    decidedAt: '2026-11-30T02:13:56Z',
  },
};

/** The lines a terminal shows: no escape can make one line overwrite another, so each is read as printed. */
const lines = (text: string) => text.split('\n');

describe('renderers given hostile server strings', () => {
  it('status, list and the gate show every escape visibly and obey none', () => {
    for (const intent of [evilIntent, sanitizeDeep(evilIntent)]) {
      const status = renderIntent(intent);
      expect(status).not.toMatch(FORBIDDEN);
      expect(status).toContain('\\x1b[2K\\x0dVerdict: passed');
      expect(status).toContain('\\u202eevil\\u202c');
      expect(status).toContain('approved by mallory\\x1b[2K');
      const list = renderIntentList({ items: [intent], nextCursor: null } as never);
      expect(list).not.toMatch(FORBIDDEN);
      expect(gateLine(decidedGate)).not.toMatch(FORBIDDEN);
    }
  });

  it('a fake "Verdict: passed" in reasons, test names or findings cannot replace the real verdict line', () => {
    for (const report of [evilReport, sanitizeDeep(evilReport)]) {
      const text = renderValidationReport(report as never, decidedGate);
      expect(text).not.toMatch(FORBIDDEN);
      const shown = lines(text);
      expect(shown[0]).toMatch(/^Verdict: {5}failed \(security 40 < 70 /);
      expect(shown.filter((line) => /^\s*Verdict:/.test(line))).toHaveLength(1);
      expect(text).toMatch(/greets users \\x1b\[2K(\\x0d| )Verdict: passed/);
    }
  });

  it('the output guard keeps the CLI colours and escapes everything else', () => {
    expect(guardOutput('\x1b[31mred\x1b[0m')).toBe('\x1b[31mred\x1b[0m');
    expect(guardOutput('a\x1b]0;t\x07b\x9bc\u202ed\re')).toBe('a\\x1b]0;t\\x07b\\x9bc\\u202ed\\x0de');
    expect(guardOutput('line 1\n\tline 2')).toBe('line 1\n\tline 2');
  });

  it('--json text keeps its meaning: the same value, with the dangerous characters as JSON escapes', () => {
    const raw = JSON.stringify({ text: 'a\u202eb\x9bc\x7f' });
    const escaped = escapeJsonText(raw);
    expect(escaped).not.toMatch(FORBIDDEN);
    expect(JSON.parse(escaped)).toEqual(JSON.parse(raw));
  });
});

describe('qlp against a hostile API (real HTTP, the real CLI)', () => {
  let api: Awaited<ReturnType<typeof hostileApi>>;
  beforeAll(async () => {
    const decided = { ...evilIntent, status: 'REJECTED', gate: decidedGate };
    api = await hostileApi([
      jsonRoute(`/api/v1/intents/${intentId}/validation`, evilReport),
      jsonRoute(`/api/v1/intents/${intentId}`, decided),
      jsonRoute(/^\/api\/v1\/intents(\?|$)/, { items: [evilIntent], nextCursor: null }),
      jsonRoute('/api/v1/whoami', {
        subject: 'key:1',
        name: `mallory${EVIL}`,
        method: 'api_key',
        tenants: ['default'],
        roles: ['approver'],
      }),
      (request, response) => {
        if (!request.url?.startsWith(`/api/v1/intents/${otherId}`)) return false;
        response.writeHead(409, { 'content-type': 'application/problem+json' });
        const errors = [
          { field: `body${EVIL}`, reason: `is bad ${EVIL}` },
          { field: 'x', reason: 'y' },
        ];
        response.end(JSON.stringify({ title: `Conflict${EVIL}`, status: 409, detail: `refused ${EVIL}`, errors }));
        return true;
      },
    ]);
  });
  afterAll(() => api.close());

  it.each([
    [['status', intentId]],
    [['list']],
    [['watch', intentId]],
    [['validation', intentId]],
    [['whoami']],
    [['status', intentId, '--json']],
    [['validation', intentId, '--json']],
  ])('qlp %j prints no escape, BEL, C1 or bidi character', async (args) => {
    const run = await runQlp([...args, '--api', api.url, '--token', 'qlp_test']);
    expect(run.stderr).not.toMatch(FORBIDDEN);
    expect(run.stdout).not.toMatch(FORBIDDEN);
    expect(run.stdout.length).toBeGreaterThan(20);
    if (args.includes('--json')) expect(JSON.stringify(JSON.parse(run.stdout))).toContain('\\u001b[2K');
  });

  it('qlp validation prints the real verdict first, and the approval as decided', async () => {
    const run = await runQlp(['validation', intentId, '--api', api.url, '--token', 'qlp_test']);
    expect(run.code).toBe(0);
    const shown = lines(run.stdout);
    expect(shown[0]).toMatch(/^Verdict: {5}failed/);
    expect(shown.filter((line) => /^\s*Verdict:/.test(line))).toHaveLength(1);
    expect(shown[1]).toMatch(/^Approval: {4}decided, reject by ciso\\x1b\[2K\\x0dVerdict: passed/);
  });

  it('a problem document with escapes is reported escaped', async () => {
    const run = await runQlp(['status', otherId, '--api', api.url, '--token', 't']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: refused \\x1b\[2K\\x0dVerdict: passed/);
    expect(run.stderr).toContain('body\\x1b[2K');
    expect(run.stderr).not.toMatch(FORBIDDEN);
  });
});

describe('qlp against the real API, with hostile text in what it stores', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await openStack('cli-escapes');
  });
  afterAll(() => stack.close());

  it('intent text, a status reason, a decision and a key name come back escaped in status, list and whoami', async () => {
    // What the API accepts from a submitter (CR, bidi) and what only the server writes (ESC, BEL, C1).
    const submitted = await call(`${stack.apiUrl}/intents`, {
      body: { text: `Build a todo service\r\u202eVerdict: passed\u202c` },
    });
    expect(submitted.status).toBe(202);
    const id = (submitted.body as { id: string }).id;
    await stack.db.intent.update({
      where: { id },
      data: { statusReason: `paused ${EVIL}`, gate: decidedGate, status: 'REJECTED' },
    });
    const evilKey = await approverKey(stack, `mallory${EVIL}`, ['approver', 'auditor', 'submitter']);
    for (const args of [['status', id], ['list'], ['whoami'], ['status', id, '--json']]) {
      const run = await runQlp(args, { QLP_API_URL: stack.apiUrl.replace(/\/api\/v1$/, ''), QLP_TOKEN: evilKey });
      expect(run.stderr).toBe('');
      expect(run.stdout).not.toMatch(FORBIDDEN);
      if (args[0] === 'whoami') expect(run.stdout).toContain('mallory\\x1b[2K\\x0dVerdict: passed');
      if (args.length === 2 && args[0] === 'status') {
        expect(run.stdout).toContain('Build a todo service\\x0d\\u202eVerdict: passed\\u202c');
        expect(run.stdout).toContain('reject by ciso\\x1b[2K\\x0dVerdict: passed');
        expect(lines(run.stdout).filter((line) => line.startsWith('Verdict'))).toEqual([]);
      }
    }
  });
});
