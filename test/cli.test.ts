import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { resolveApiUrl } from '../cli/api-url';
import { renderHealth, renderIntent, renderIntentList, renderUsage } from '../cli/format';
import { renderValidationReport } from '../cli/commands/validation';
import type { IntentView } from '../contracts/views';

// Stack-free tests of the qlp CLI: usage errors, the unreachable-API path, and pure rendering.

const qlp = join(__dirname, '..', 'bin', 'qlp');

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const { QLP_API_URL: _ignored, ...inherited } = process.env;
    const child = spawn(qlp, args, { env: { ...inherited, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A port nothing listens on: bind an ephemeral one, then release it. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at /);

describe('qlp usage errors (exit 2, no request made)', () => {
  // --api points at a closed port: if validation let a request through, the exit code would be 3.
  let api: string;
  beforeAll(async () => {
    api = `http://127.0.0.1:${await closedPort()}`;
  });

  it.each([
    [['status', 'not-a-uuid'], /'not-a-uuid' is not a valid intent id: expected a UUID/],
    [['watch', '1234'], /'1234' is not a valid intent id/],
    [['download', 'abc'], /'abc' is not a valid intent or capsule id/],
    [['approve', 'nope'], /'nope' is not a valid intent id/],
    // Who approves is who you are (your credential), not a name you type.
    [['approve', '123e4567-e89b-42d3-a456-426614174000', '--as', 'ciso'], /unknown option '--as'/],
    [['reject', '123e4567-e89b-42d3-a456-426614174000'], /required option '-r, --reason <reason>' not specified/],
    [['submit'], /missing intent text/],
    [['submit', '-k', 'has space', 'build it'], /--idempotency-key must be printable ASCII without spaces/],
    [['list', '--limit', '0'], /must be a whole number from 1 to 100/],
    [['list', '--status', 'bogus'], /must be one of RECEIVED, PLANNING/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('qlp %j', async (args, message) => {
    const result = await run(['--api', api, ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    noStackTrace(result.stderr);
  });

  it('rejects an --api that is not an http(s) URL', async () => {
    const result = await run(['--api', 'ftp://example.com', 'health']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "--api must be an http(s) URL such as http://127.0.0.1:8080, got 'ftp://example.com'",
    );
  });

  it('rejects an invalid QLP_API_URL with the config exit code', async () => {
    const result = await run(['health'], { QLP_API_URL: 'localhost:8080' });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('QLP_API_URL must be an http(s) URL');
  });

  it('prints help and exits 0 for --help', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: qlp/);
    expect(result.stdout).toMatch(/submit/);
  });
});

describe('qlp when the API is unreachable (exit 3)', () => {
  it.each([
    [['health']],
    [['list']],
    [['status', '123e4567-e89b-42d3-a456-426614174000']],
    [['submit', 'build', 'a', 'thing']],
  ])('qlp %j', async (args) => {
    const api = `http://127.0.0.1:${await closedPort()}`;
    const result = await run(['--api', api, ...args]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`cannot reach the QuantumLayer API at ${api}: connect ECONNREFUSED`);
    expect(result.stderr).toContain('is it running? (scripts/up, or set QLP_API_URL)');
    noStackTrace(result.stderr);
  });

  it('reads QLP_API_URL when --api is absent', async () => {
    const api = `http://127.0.0.1:${await closedPort()}`;
    const result = await run(['list'], { QLP_API_URL: `${api}/` });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`cannot reach the QuantumLayer API at ${api}:`);
  });
});

describe('resolveApiUrl', () => {
  it('prefers --api, then QLP_API_URL, then the default, without a trailing slash', () => {
    expect(resolveApiUrl('http://api.example:9000/', { QLP_API_URL: 'http://other:1' })).toBe(
      'http://api.example:9000',
    );
    expect(resolveApiUrl(undefined, { QLP_API_URL: 'https://qlp.example/base/' })).toBe('https://qlp.example/base');
    expect(resolveApiUrl(undefined, { QLP_API_URL: '' })).toBe('http://127.0.0.1:8080');
    expect(resolveApiUrl(undefined, {})).toBe('http://127.0.0.1:8080');
  });

  it('refuses what is not an http(s) URL', () => {
    expect(() => resolveApiUrl(undefined, { QLP_API_URL: '127.0.0.1:8080' })).toThrow(
      /QLP_API_URL must be an http\(s\) URL/,
    );
    expect(() => resolveApiUrl('postgres://db', {})).toThrow(/--api must be an http\(s\) URL/);
  });
});

const intentId = '97d03910-e873-48bb-afed-f976e98f1d98';
const sampleIntent: IntentView = {
  id: intentId,
  tenant: 'default',
  text: 'Build a greeting service\nfor new users',
  submittedBy: null,
  status: 'COMPLETED',
  statusReason: null,
  workflowId: `intent-${intentId}`,
  createdAt: '2026-11-28T18:42:19.646Z',
  updatedAt: '2026-11-28T18:42:29.334Z',
  completedAt: '2026-11-28T18:42:29.271Z',
  tasks: [
    {
      id: 'module',
      type: 'codegen',
      description: 'Implement it',
      dependencies: [],
      status: 'COMPLETED',
      fileCount: 1,
      attempts: 2,
      error: null,
      startedAt: '2026-11-28T18:42:20.000Z',
      finishedAt: '2026-11-28T18:42:21.500Z',
    },
    {
      id: 'check',
      type: 'test',
      description: 'Check it',
      dependencies: ['module'],
      status: 'FAILED',
      fileCount: null,
      attempts: 0,
      error: 'generator crashed',
      startedAt: null,
      finishedAt: null,
    },
  ],
  validation: {
    reportKey: 'intents/x/reports/validation.json',
    typecheck: {
      status: 'failed',
      errorCount: 1,
      firstErrors: ["src/a.ts(1,1): error TS2304: Cannot find name 'x'."],
      filesChecked: 2,
    },
  },
  gate: {
    state: 'decided',
    decision: { via: 'update', approver: 'ops@example.com', decision: 'approve', reason: 'ship it' },
  },
  capsule: {
    id: 'bcea52a9-d59f-4730-8faa-bc810307c47a',
    version: 1,
    sha256: '6c15689a73d70fd8c66461a89ca4e25bacd61d66a03cda96b3d4d25ca7f89d33',
    sizeBytes: 1299,
    fileCount: 4,
    location: 's3://quantumlayer/capsules/x/x-v1.tar.gz',
    download: '/api/v1/capsules/bcea52a9-d59f-4730-8faa-bc810307c47a/download',
  },
  links: {
    self: `/api/v1/intents/${intentId}`,
    decision: `/api/v1/intents/${intentId}/decision`,
    temporalUi: `http://127.0.0.1:8233/namespaces/default/workflows/intent-${intentId}`,
  },
};

describe('renderIntent', () => {
  const text = renderIntent(sampleIntent, { color: false });

  it('shows status, tasks, validation, gate, capsule and the Web UI link', () => {
    expect(text).toContain(`Intent:     ${intentId}`);
    expect(text).toContain('Status:     COMPLETED');
    expect(text).toContain('Text:       Build a greeting service for new users');
    expect(text).toContain('Tasks (1/2 tasks done, 1 failed)');
    expect(text).toMatch(
      /ID\s+TYPE\s+STATUS\s+ATTEMPTS\s+TIME\s+FILES\n\s+module\s+codegen\s+COMPLETED\s+2\s+1\.5 s\s+1\n\s+check\s+test\s+FAILED\s+-\s+-\s+-/,
    );
    expect(text).toContain('check: generator crashed');
    expect(text).toContain('Validation: typecheck failed, 1 error, 2 files checked');
    expect(text).toContain("error TS2304: Cannot find name 'x'.");
    expect(text).toContain('Gate:       decided, approve by ops@example.com (via update): ship it');
    expect(text).toContain('Capsule:    bcea52a9-d59f-4730-8faa-bc810307c47a (v1, 4 files)');
    expect(text).toContain('sha256:   6c15689a73d70fd8c66461a89ca4e25bacd61d66a03cda96b3d4d25ca7f89d33');
    expect(text).toContain('size:     1.3 KiB (1299 bytes)');
    expect(text).toContain('location: s3://quantumlayer/capsules/x/x-v1.tar.gz');
    expect(text).toContain(`Web UI:     http://127.0.0.1:8233/namespaces/default/workflows/intent-${intentId}`);
  });

  it('shows when the decision was taken (absent for intents decided before it was recorded)', () => {
    const decided = renderIntent({
      ...sampleIntent,
      gate: {
        state: 'decided',
        decision: { ...sampleIntent.gate!.decision!, decidedAt: '2026-11-30T02:13:56.123Z' },
      },
    });
    expect(decided).toContain(
      'Gate:       decided, approve by ops@example.com (via update) at 2026-11-30 02:13:56 UTC: ship it',
    );
  });

  it('has no ANSI codes without colour, and colours the status with it', () => {
    expect(text).not.toContain('\x1b[');
    expect(renderIntent(sampleIntent, { color: true })).toContain('\x1b[32mCOMPLETED\x1b[0m');
  });

  it('tells how to decide while the gate is open', () => {
    const waiting = renderIntent({
      ...sampleIntent,
      status: 'AWAITING_APPROVAL',
      gate: { state: 'open' },
      capsule: null,
      completedAt: null,
    });
    expect(waiting).toContain('Gate:       open, waiting for a decision');
    expect(waiting).toContain(`qlp approve ${intentId}`);
    expect(waiting).not.toContain('--as');
    expect(waiting).toContain('Capsule:    none yet');
  });

  it('copes with an intent that has not been planned yet', () => {
    const fresh = renderIntent({
      ...sampleIntent,
      status: 'RECEIVED',
      tasks: undefined,
      validation: null,
      gate: null,
      capsule: null,
      completedAt: null,
    });
    expect(fresh).toContain('Tasks (no tasks yet)');
    expect(fresh).toContain('Validation: not run yet');
    expect(fresh).toContain('Gate:       not reached yet');
  });
});

describe('renderIntentList and renderHealth', () => {
  it('lists intents with a hint for the next page', () => {
    const text = renderIntentList({ items: [sampleIntent], nextCursor: 'abc_-1' });
    expect(text).toMatch(/^ID\s+STATUS\s+TENANT\s+CREATED\s+TEXT\n/);
    expect(text).toContain(
      `${intentId}  COMPLETED  default  2026-11-28 18:42:19 UTC  Build a greeting service for new users`,
    );
    expect(text).toContain('more: qlp list --cursor abc_-1');
    expect(renderIntentList({ items: [], nextCursor: null })).toBe('no intents');
  });

  it('shows each check and the failing one with its error', () => {
    const text = renderHealth({
      status: 'degraded',
      checks: {
        temporal: { ok: true, latencyMs: 3 },
        database: { ok: false, latencyMs: 3000, error: 'no answer within 3000 ms' },
        s3: { ok: true, latencyMs: 4 },
      },
    });
    expect(text).toContain('API status: degraded');
    expect(text).toMatch(/temporal\s+ok\s+3 ms/);
    expect(text).toMatch(/database\s+FAIL\s+3000 ms\s+no answer within 3000 ms/);
  });
});

describe('LLM usage line', () => {
  const usage = {
    mode: 'llm' as const,
    calls: 5,
    cachedCalls: 1,
    cacheHitRate: 0.2,
    promptTokens: 3866,
    completionTokens: 411,
    totalTokens: 4277,
    costUsd: null,
    failedCalls: 1,
  };

  it('shows calls, cache hits, tokens and an unknown cost honestly', () => {
    expect(renderUsage(usage)).toBe(
      '5 calls (1 cached, 1 failed), 4,277 tokens (3,866 prompt + 411 completion), cost n/a (unpriced model)',
    );
  });

  it('says when the offline catalogue answered without an LLM', () => {
    expect(renderUsage({ ...usage, mode: 'offline', calls: 0, cachedCalls: 0, failedCalls: 0 })).toBe(
      'none (offline catalogue, no LLM configured)',
    );
  });
});

describe('validation report', () => {
  it('shows the verdict, the four scores, each framework and the top recommendations', () => {
    const text = renderValidationReport({
      verdict: { status: 'failed', reasons: ['security 40 < 70'] },
      scores: { overall: 55, security: 40, quality: 90, compliance: null },
      frameworks: [
        {
          framework: 'HIPAA',
          status: 'fail',
          counts: { pass: 3, fail: 1, notApplicable: 2, notAssessed: 0 },
          notCovered: [{ id: 'x', title: 'y', reason: 'z' }],
        },
      ],
      checks: [{ tool: 'semgrep', status: 'not_assessed', reason: 'semgrep is not installed' }],
      recommendations: [
        {
          priority: 1,
          severity: 'high',
          title: 'Verify TLS certificates',
          occurrences: 2,
          controls: ['HIPAA 164.312(e)(1)'],
        },
      ],
    } as unknown as Parameters<typeof renderValidationReport>[0]);
    expect(text).toContain('Verdict:     failed (security 40 < 70)');
    expect(text).toContain('overall 55, security 40, quality 90, compliance n/a');
    expect(text).toMatch(/HIPAA\s+fail\s+3 pass, 1 fail, 2 not applicable, 1 controls not covered/);
    expect(text).toContain('semgrep: not_assessed (semgrep is not installed)');
    expect(text).toContain('1. [high] Verify TLS certificates (2×; HIPAA 164.312(e)(1))');
    expect(text).not.toContain('Approval:');
  });

  it("shows the intent's approval with its time when given the gate", () => {
    const report = {
      verdict: { status: 'passed', reasons: [] },
      scores: {},
      frameworks: [],
      checks: [],
      recommendations: [],
    } as unknown as Parameters<typeof renderValidationReport>[0];
    const decision = {
      decision: 'reject' as const,
      approver: 'ciso@example.com',
      reason: 'needs auth',
      via: 'update' as const,
      decidedAt: '2026-11-30T02:13:56Z',
    };
    expect(renderValidationReport(report, { state: 'decided', decision })).toContain(
      'Approval:    decided, reject by ciso@example.com (via update) at 2026-11-30 02:13:56 UTC: needs auth',
    );
    expect(renderValidationReport(report, { state: 'open' })).toContain('Approval:    waiting for a decision');
  });

  it('shows what layer 2 found in the sandbox, or why it did not run', () => {
    const base = {
      verdict: { status: 'failed', reasons: [] },
      scores: {},
      frameworks: [],
      checks: [],
      recommendations: [],
    };
    const ran = renderValidationReport({
      ...base,
      layers: { dynamic: { status: 'assessed' } },
      sandbox: {
        driver: 'docker',
        outcome: 'failed',
        tests: { passed: 3, failed: 1, skipped: 0 },
        limitHits: ['timeout'],
        durationMs: 4200,
      },
    } as unknown as Parameters<typeof renderValidationReport>[0]);
    expect(ran).toContain(
      'Sandbox:     failed in docker: 3 tests passed, 1 failed, stopped at the timeout limit (4200 ms)',
    );
    const skipped = renderValidationReport({
      ...base,
      layers: { dynamic: { status: 'not_assessed', reason: 'no isolation available' } },
    } as unknown as Parameters<typeof renderValidationReport>[0]);
    expect(skipped).toContain('Sandbox:     not assessed (no isolation available)');
  });
});
