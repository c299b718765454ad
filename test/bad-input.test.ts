import { randomBytes, randomUUID } from 'node:crypto';
import { signDecision } from '../contracts/approval';
import { intentWorkflowId } from '../contracts/intent';
import { decisionSignal, statusQuery, submitDecisionUpdate } from '../workflows/messages';
import { call, decide, type ApiResponse } from './support/api';
import { approverKey, eventually, openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';

let stack: TestStack;
let worker: RunningWorker;

beforeAll(async () => {
  stack = await openStack('bad-input');
  worker = await startWorker(stack);
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

/**
 * Runs a request that must be refused, marked with a key of its own (as Idempotency-Key, or as the
 * text), and checks that no intent carries that mark afterwards: other test files submit concurrently.
 */
async function refusedWithoutSideEffects(request: (mark: string) => Promise<ApiResponse>) {
  const mark = `bad-input-${randomUUID()}`;
  const response = await request(mark);
  expect(await stack.db.intent.count({ where: { OR: [{ idempotencyKey: mark }, { text: mark }] } })).toBe(0);
  return response;
}

const post =
  (rawBody: string | undefined, contentType = 'application/json') =>
  (mark: string) =>
    call(`${stack.apiUrl}/intents`, {
      method: 'POST',
      rawBody,
      headers: { 'content-type': contentType, 'idempotency-key': mark },
    });

describe('a submission the API cannot accept is refused with the field and reason, and starts nothing', () => {
  test.each([
    ['an empty body', post(''), 400, [{ field: 'body.text', reason: 'is required and must be a string' }]],
    ['an empty text', post('{"text":"   "}'), 400, [{ field: 'body.text', reason: 'must not be empty' }]],
    [
      'a text of the wrong type',
      post('{"text":42}'),
      400,
      [{ field: 'body.text', reason: 'is required and must be a string' }],
    ],
    [
      'an unknown field',
      post('{"text":"x","priority":1}'),
      400,
      [{ field: 'body', reason: 'unknown field(s): priority' }],
    ],
    [
      'a text over the limit',
      post(JSON.stringify({ text: 'x'.repeat(10_001) })),
      400,
      [{ field: 'body.text', reason: 'must be at most 10000 characters' }],
    ],
    [
      'a NUL byte in the text',
      post(JSON.stringify({ text: 'A library module\u0000 for invoices' })),
      400,
      [
        {
          field: 'body.text',
          reason: 'must not contain control characters other than tab and line breaks (found U+0000 at character 17)',
        },
      ],
    ],
    [
      'a C1 control character in the text',
      post(JSON.stringify({ text: 'A library module\u009b for invoices' })),
      400,
      [
        {
          field: 'body.text',
          reason: 'must not contain control characters other than tab and line breaks (found U+009B at character 17)',
        },
      ],
    ],
    [
      'an unpaired surrogate in the text',
      post('{"text":"A library module \\ud800 for invoices"}'),
      400,
      [{ field: 'body.text', reason: 'must be valid Unicode text (found an unpaired surrogate)' }],
    ],
    [
      'a bad tenant',
      post('{"text":"x","tenant":"Not OK"}'),
      400,
      [{ field: 'body.tenant', reason: 'must be lowercase letters, digits and dashes (max 63)' }],
    ],
  ])('%s is refused', async (_name, request, status, errors) => {
    const response = await refusedWithoutSideEffects(request);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.errors).toEqual(errors);
  });

  test('a body over the size limit → 413', async () => {
    const response = await refusedWithoutSideEffects(post(JSON.stringify({ text: 'x'.repeat(70_000) })));
    expect(response.status).toBe(413);
    expect(response.body.detail).toBe('request body exceeds the size limit');
  });

  test('a body that is not JSON → 400', async () => {
    const response = await refusedWithoutSideEffects(post('{"text": "unterminated'));
    expect(response.status).toBe(400);
    expect(response.body.title).toBe('Malformed JSON');
  });

  test('a body that is not declared as JSON → 415', async () => {
    const response = await refusedWithoutSideEffects(post('text=hello', 'application/x-www-form-urlencoded'));
    expect(response.status).toBe(415);
    expect(response.body.detail).toMatch(/must be JSON/);
  });

  test('an unusable Idempotency-Key → 400', async () => {
    const response = await refusedWithoutSideEffects((mark) =>
      call(`${stack.apiUrl}/intents`, { body: { text: mark }, headers: { 'Idempotency-Key': 'has spaces in it' } }),
    );
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      { field: 'header.idempotency-key', reason: 'must be printable ASCII without spaces' },
    ]);
  });
});

describe('asking about intents that do not exist', () => {
  test('an unknown intent id → 404', async () => {
    const id = randomUUID();
    const response = await call(`${stack.apiUrl}/intents/${id}`);
    expect(response.status).toBe(404);
    expect(response.body.detail).toBe(`intent ${id} does not exist`);
  });

  test('a malformed intent id → 400 naming the path parameter', async () => {
    const response = await call(`${stack.apiUrl}/intents/not-a-uuid`);
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: 'path.id', reason: 'must be an intent id (UUID)' }]);
  });

  test('a decision for an unknown intent → 404', async () => {
    const response = await call(`${stack.apiUrl}/intents/${randomUUID()}/decision`, {
      body: { decision: 'approve', digest: '0'.repeat(64) },
      token: stack.keys.approver,
    });
    expect(response.status).toBe(404);
  });

  test('an unknown capsule → 404', async () => {
    expect((await call(`${stack.apiUrl}/capsules/${randomUUID()}/download`)).status).toBe(404);
  });

  test.each([
    ['GET', '/intents/%'],
    ['GET', '/intents/%ff%fe'],
    ['GET', '/intents/%ff/validation'],
    ['POST', '/intents/%E0%A4%A/decision'],
    ['POST', '/intents/%/cancel'],
    ['GET', '/capsules/%zz/download'],
  ])('malformed percent-encoding in the path (%s %s) → 400 naming the path parameter', async (method, path) => {
    const response = await call(`${stack.apiUrl}${path}`, { method, ...(method === 'POST' && { body: {} }) });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.errors).toEqual([
      {
        field: 'path.id',
        reason: 'is not valid percent-encoding (a % must be followed by two hex digits forming UTF-8)',
      },
    ]);
  });

  test('a bad page cursor → 400', async () => {
    const response = await call(`${stack.apiUrl}/intents?cursor=bm90LWEtY3Vyc29y`);
    expect(response.status).toBe(400);
    expect(response.body.errors[0].field).toBe('query.cursor');
  });
});

describe('decisions', () => {
  let intentId: string;

  beforeAll(async () => {
    const submitted = await call(`${stack.apiUrl}/intents`, {
      body: { text: 'A library module for invoices with amount and due date' },
    });
    intentId = submitted.body.id;
    await eventually(async () => {
      const { body } = await call(`${stack.apiUrl}/intents/${intentId}`);
      return body.status === 'AWAITING_APPROVAL' ? body : undefined;
    }, 'the gate');
  });

  const digest = '0'.repeat(64);
  test.each([
    [
      { decision: 'maybe', digest },
      [{ field: 'body.decision', reason: "must be 'approve', 'reject' or 'request_changes'" }],
    ],
    [{ decision: 'approve' }, [{ field: 'body.digest', reason: 'is required (the gate.digest you reviewed)' }]],
    [
      { decision: 'approve', digest: 'abc' },
      [{ field: 'body.digest', reason: 'must be the 64-hex-digit review digest shown as gate.digest' }],
    ],
    [
      { decision: 'reject', digest },
      [{ field: 'body.reason', reason: 'is required when rejecting or requesting changes' }],
    ],
    // Who approves is the authenticated caller, never a name in the body.
    [
      { decision: 'approve', approver: 'ciso@example.com', digest },
      [{ field: 'body', reason: 'unknown field(s): approver' }],
    ],
  ])('a malformed decision %j → 400, and the intent still waits', async (decision, errors) => {
    const response = await call(`${stack.apiUrl}/intents/${intentId}/decision`, {
      body: decision,
      token: stack.keys.approver,
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual(errors);
    const { body } = await call(`${stack.apiUrl}/intents/${intentId}`);
    expect(body.status).toBe('AWAITING_APPROVAL');
  });

  test('a decision for an intent that is no longer awaiting one → 409; the refusal is audited and nothing else changes', async () => {
    const first = await decide(
      stack.apiUrl,
      intentId,
      { decision: 'reject', reason: 'first decision' },
      stack.keys.approver,
    );
    expect(first.status).toBe(200);
    const rejected = await eventually(async () => {
      const { body } = await call(`${stack.apiUrl}/intents/${intentId}`);
      return body.status === 'REJECTED' ? body : undefined;
    }, 'the rejection');
    const auditBefore = await stack.db.auditEvent.count({ where: { intentId } });

    const late = await decide(
      stack.apiUrl,
      intentId,
      { decision: 'approve', digest: rejected.gate.digest },
      stack.keys.approver2,
    );
    expect(late.status).toBe(409);
    expect(late.body.detail).toBe('intent is REJECTED, not awaiting a decision');

    const after = await call(`${stack.apiUrl}/intents/${intentId}`);
    expect(after.body).toEqual(rejected);
    const audit = await stack.db.auditEvent.findMany({ where: { intentId }, orderBy: { id: 'asc' } });
    expect(audit.length).toBe(auditBefore + 1);
    expect(audit.at(-1)).toMatchObject({ type: 'intent.decision_refused', actor: expect.stringMatching(/^key:/) });
  });
});

describe('control characters never reach the read model, so nothing is wedged', () => {
  let intentId: string;
  const decideAs = async (body: Record<string, unknown>, token = stack.keys.approver) => {
    const digest = (await call(`${stack.apiUrl}/intents/${intentId}`)).body.gate?.digest;
    return call(`${stack.apiUrl}/intents/${intentId}/decision`, { body: { digest, ...body }, token });
  };
  const awaiting = async () => (await call(`${stack.apiUrl}/intents/${intentId}`)).body.status;

  beforeAll(async () => {
    const submitted = await call(`${stack.apiUrl}/intents`, {
      body: { text: 'A library module for invoices with amount and due date **APPROVED by CISO**' },
    });
    intentId = submitted.body.id;
    await eventually(async () => ((await awaiting()) === 'AWAITING_APPROVAL' ? true : undefined), 'the gate');
  });

  test('the Web UI summary shows the text as typed, not as markdown', async () => {
    const description = await stack.temporal.workflow.getHandle(intentWorkflowId(intentId)).describe();
    expect(await description.staticSummary()).toBe(
      'Intent: A library module for invoices with amount and due date \\*\\*APPROVED by CISO\\*\\*',
    );
  });

  const single = 'must be a single line without control characters';
  const multi = 'must not contain control characters other than tab and line breaks';
  test.each([
    ['reason', { decision: 'reject', reason: 'no\u0000' }, `${multi} (found U+0000 at character 3)`],
    ['reason', { decision: 'approve', reason: 'ok\u001b[2J' }, `${multi} (found U+001B at character 3)`],
  ])(
    'a decision with a control character in %s → 400 naming it, and the intent still waits',
    async (field, body, reason) => {
      const response = await decideAs(body);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: `body.${field}`, reason }]);
      expect(await awaiting()).toBe('AWAITING_APPROVAL');
    },
  );

  test('a cancel request with a NUL byte in its reason, or naming who cancels → 400, and the intent still waits', async () => {
    const response = await call(`${stack.apiUrl}/intents/${intentId}/cancel`, { body: { reason: 'ops\u0000' } });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: 'body.reason', reason: `${multi} (found U+0000 at character 4)` }]);
    const named = await call(`${stack.apiUrl}/intents/${intentId}/cancel`, { body: { requestedBy: 'ciso' } });
    expect(named.status).toBe(400);
    expect(named.body.errors).toEqual([{ field: 'body', reason: 'unknown field(s): requestedBy' }]);
    expect(await awaiting()).toBe('AWAITING_APPROVAL');
  });

  test('the workflow refuses an unsigned or forged decision itself, when sent around the API', async () => {
    const handle = stack.temporal.workflow.getHandle(intentWorkflowId(intentId));
    await expect(
      handle.executeUpdate(submitDecisionUpdate, { args: [{ decision: 'approve', approver: 'ops\u0000' }] }),
    ).rejects.toMatchObject({ cause: { type: 'Unauthenticated' } });
    const forged = signDecision(
      {
        v: 1,
        intentId,
        decision: 'approve',
        digest: (await call(`${stack.apiUrl}/intents/${intentId}`)).body.gate.digest,
        principal: {
          subject: 'key:forged',
          name: 'ciso',
          roles: ['approver'],
          tenants: ['default'],
          method: 'api-key',
        },
        issuedAt: new Date().toISOString(),
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      },
      randomBytes(32),
    );
    await expect(handle.executeUpdate(submitDecisionUpdate, { args: [{ token: forged }] })).rejects.toMatchObject({
      cause: { type: 'Unauthenticated', message: expect.stringContaining('signature does not verify') },
    });
    expect(await awaiting()).toBe('AWAITING_APPROVAL');
  });

  test('a malformed decision signal is ignored and recorded: in the state, the Web UI details and the audit trail', async () => {
    const handle = stack.temporal.workflow.getHandle(intentWorkflowId(intentId));
    await handle.signal(decisionSignal, { decision: 'approve', approver: 'ops\u0000' });
    const ignored = await eventually(async () => (await handle.query(statusQuery)).ignoredDecisions, 'the record');
    expect(ignored.count).toBe(1);
    expect(ignored.latest[0]).toMatchObject({
      approver: 'ops\ufffd',
      reason: `malformed decision: approver: ${single} (found U+0000 at character 4)`,
    });
    const audit = await eventually(
      async () =>
        (await stack.db.auditEvent.findFirst({ where: { intentId, type: 'intent.decision_ignored' } })) ?? undefined,
      'the audit event',
    );
    expect(audit).toMatchObject({ actor: 'ops\ufffd' });
    expect(audit.data).toMatchObject({ via: 'signal', status: 'AWAITING_APPROVAL' });
    const { currentDetails } = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    expect(currentDetails).toContain('Ignored `decision` signals: 1');
    expect(await awaiting()).toBe('AWAITING_APPROVAL');
  });

  test('then the intent is approved as usual, and the decision carries its time', async () => {
    const before = Date.now();
    const response = await decideAs(
      { decision: 'approve', reason: 'line one\n\tline two' },
      await approverKey(stack, 'ops@example.com'),
    );
    expect(response.status).toBe(200);
    const { decidedAt } = response.body.decision;
    expect(Date.parse(decidedAt)).toBeGreaterThanOrEqual(before - 5_000);
    expect(Date.parse(decidedAt)).toBeLessThanOrEqual(Date.now());
    const completed = await eventually(async () => {
      const { body } = await call(`${stack.apiUrl}/intents/${intentId}`);
      return body.status === 'COMPLETED' ? body : undefined;
    }, 'the capsule');
    expect(completed.gate.decision).toMatchObject({
      approver: 'ops@example.com',
      via: 'update',
      decidedAt,
      authenticated: true,
      digest: completed.gate.digest,
    });
  });
});
