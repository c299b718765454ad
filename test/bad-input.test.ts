import { randomUUID } from 'node:crypto';
import { call, type ApiResponse } from './support/api';
import { eventually, openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';

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
      body: { decision: 'approve', approver: 'ops' },
    });
    expect(response.status).toBe(404);
  });

  test('an unknown capsule → 404', async () => {
    expect((await call(`${stack.apiUrl}/capsules/${randomUUID()}/download`)).status).toBe(404);
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

  test.each([
    [{ decision: 'maybe', approver: 'ops' }, [{ field: 'body.decision', reason: "must be 'approve' or 'reject'" }]],
    [{ decision: 'approve' }, [{ field: 'body.approver', reason: 'is required' }]],
    [{ decision: 'reject', approver: 'ops' }, [{ field: 'body.reason', reason: 'is required when rejecting' }]],
  ])('a malformed decision %j → 400, and the intent still waits', async (decision, errors) => {
    const response = await call(`${stack.apiUrl}/intents/${intentId}/decision`, { body: decision });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual(errors);
    const { body } = await call(`${stack.apiUrl}/intents/${intentId}`);
    expect(body.status).toBe('AWAITING_APPROVAL');
  });

  test('a decision for an intent that is no longer awaiting one → 409, and nothing changes', async () => {
    const first = await call(`${stack.apiUrl}/intents/${intentId}/decision`, {
      body: { decision: 'reject', approver: 'ops', reason: 'first decision' },
    });
    expect(first.status).toBe(200);
    const rejected = await eventually(async () => {
      const { body } = await call(`${stack.apiUrl}/intents/${intentId}`);
      return body.status === 'REJECTED' ? body : undefined;
    }, 'the rejection');
    const auditBefore = await stack.db.auditEvent.count({ where: { intentId } });

    const late = await call(`${stack.apiUrl}/intents/${intentId}/decision`, {
      body: { decision: 'approve', approver: 'someone-else' },
    });
    expect(late.status).toBe(409);
    expect(late.body.detail).toBe('intent is REJECTED, not awaiting a decision');

    const after = await call(`${stack.apiUrl}/intents/${intentId}`);
    expect(after.body).toEqual(rejected);
    expect(await stack.db.auditEvent.count({ where: { intentId } })).toBe(auditBefore);
  });
});
