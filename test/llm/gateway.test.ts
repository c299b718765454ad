import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { createDatabase, type Database } from '../../adapters/db/client';
import { BudgetExceededError, cacheStatistics, LlmFailure, LlmGateway, summariseUsage } from '../../adapters/llm';
import { SpendLedger } from '../../adapters/llm/ledger';
import { json, ScriptedLlm } from '../support/scripted-llm';
import { llmConfig, providerFor, TEST_KEY } from './llm-stack';

// The LLM layer against a scripted OpenAI-compatible server over real HTTP, with the real `openai` client.

let db: Database;
let llm: ScriptedLlm;
let backup: ScriptedLlm;

beforeAll(async () => {
  db = createDatabase(process.env.DATABASE_URL!, { maxConnections: 5 });
  llm = await ScriptedLlm.start();
  backup = await ScriptedLlm.start();
});

afterAll(async () => {
  await llm?.close();
  await backup?.close();
  await db?.$disconnect();
});

beforeEach(() => {
  llm.reset();
  backup.reset();
  llm.apiKey = undefined;
});

const Answer = z.object({ answer: z.string().min(1), count: z.number().int() });
const unlimited = { maxTokens: null, maxCostUsd: null };

function ask(
  gateway: LlmGateway,
  intentId = randomUUID(),
  question = `question ${randomUUID()}`,
  budget: { maxTokens: number | null; maxCostUsd: number | null } = unlimited,
) {
  return gateway.completeStructured({
    intentId,
    purpose: 'test',
    schemaName: 'answer',
    schema: Answer,
    messages: [
      { role: 'system', content: 'Answer in JSON.' },
      { role: 'user', content: question },
    ],
    budget,
  });
}

test('a valid reply is parsed and validated; the request carries the JSON schema, the model and the key', async () => {
  const gateway = new LlmGateway(db, llmConfig([providerFor(llm)]));
  llm.enqueue(json({ answer: 'yes', count: 2 }, { prompt_tokens: 120, completion_tokens: 30 }));
  const result = await ask(gateway);
  expect(result.value).toEqual({ answer: 'yes', count: 2 });
  expect(result.usage).toMatchObject({
    calls: 1,
    cachedCalls: 0,
    promptTokens: 120,
    completionTokens: 30,
    costUsd: null,
    cached: false,
  });
  const [request] = llm.requests;
  expect(request!.path).toBe('/v1/chat/completions');
  expect(request!.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
  expect(request!.body).toMatchObject({ model: 'scripted-model', max_tokens: 4096, temperature: 0 });
  expect(request!.body.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'answer' } });
  expect(request!.body.response_format!.json_schema!.schema).toMatchObject({ required: ['answer', 'count'] });
});

test('malformed JSON is tolerated when it can be, else repaired in one round that feeds the errors back', async () => {
  const gateway = new LlmGateway(db, llmConfig([providerFor(llm)]));
  llm.enqueue({ content: 'Sure! Here it is:\n```json\n{"answer": "fenced", "count": 1,}\n```' });
  expect((await ask(gateway)).value).toEqual({ answer: 'fenced', count: 1 });

  llm.reset();
  llm.enqueue({ content: '{"answer": "", "count": "two"' }, json({ answer: 'fixed', count: 2 }));
  const repaired = await ask(gateway);
  expect(repaired).toMatchObject({ value: { answer: 'fixed', count: 2 }, repaired: true });
  expect(repaired.usage.calls).toBe(2);
  const feedback = llm.requests[1]!.body.messages.at(-1)!.content;
  expect(feedback).toMatch(/could not be used/);
  expect(feedback).toMatch(/not valid JSON/);
  expect(llm.requests[1]!.body.messages.at(-2)).toEqual({
    role: 'assistant',
    content: '{"answer": "", "count": "two"',
  });

  llm.reset();
  llm.enqueue(json({ answer: '', count: 1 }), json({ answer: '', count: 1.5 }));
  const failure = await ask(gateway).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(LlmFailure);
  expect(failure).toMatchObject({ type: 'LlmInvalidOutput', retryable: false });
  expect((failure as Error).message).toMatch(/answer: Too small/);
  expect(llm.requests).toHaveLength(2); // one repair round, no more
});

test.each([
  [
    429,
    { message: 'Rate limit reached' },
    { 'retry-after': '2' },
    { type: 'LlmRateLimited', retryable: true, retryAfterMs: 2000 },
  ],
  [
    429,
    { message: 'You exceeded your current quota', code: 'insufficient_quota' },
    {},
    { type: 'LlmQuotaExceeded', retryable: false },
  ],
  [503, { message: 'overloaded' }, {}, { type: 'LlmUnavailable', retryable: true }],
  [500, { message: 'boom' }, {}, { type: 'LlmUnavailable', retryable: true }],
  [400, { message: "Invalid parameter: 'response_format'" }, {}, { type: 'LlmBadRequest', retryable: false }],
  [403, { message: 'Model access denied' }, {}, { type: 'LlmAuthFailed', retryable: false }],
  [404, { message: 'The model does not exist' }, {}, { type: 'LlmModelNotFound', retryable: false }],
])('HTTP %i is classified: %j', async (status, error, headers, expected) => {
  const gateway = new LlmGateway(db, llmConfig([providerFor(llm)]));
  llm.enqueue({ status, error, headers });
  await expect(ask(gateway)).rejects.toMatchObject({ ...expected, status });
});

test('401: non-retryable, names the variable to fix, and never repeats the key', async () => {
  llm.apiKey = 'sk-the-right-key-000000';
  const gateway = new LlmGateway(db, llmConfig([providerFor(llm)]));
  const failure = (await ask(gateway).catch((error: unknown) => error)) as LlmFailure;
  expect(failure).toMatchObject({ type: 'LlmAuthFailed', retryable: false, status: 401 });
  expect(failure.message).toMatch(/rejected the credentials \(HTTP 401\).*Check LLM_COMPATIBLE_API_KEY/);
  expect(failure.message).not.toContain(TEST_KEY);
  expect(failure.message).not.toContain(TEST_KEY.slice(0, 6)); // the server echoed the key's first characters
});

test('a provider that does not answer in time is a retryable timeout whose reservation stays counted', async () => {
  const gateway = new LlmGateway(db, llmConfig([providerFor(llm)], { timeoutMs: 300, maxOutputTokens: 100 }));
  llm.enqueue({ hang: true });
  const intentId = randomUUID();
  const started = Date.now();
  await expect(ask(gateway, intentId)).rejects.toMatchObject({ type: 'LlmTimeout', retryable: true });
  expect(Date.now() - started).toBeLessThan(10_000); // its own 300 ms, not the default minutes
  const [call] = await db.llmCall.findMany({ where: { intentId } });
  expect(call).toMatchObject({ state: 'timed_out', promptTokens: 0 });
  // The provider may have billed the cut-off call: the budget keeps counting its worst case.
  expect((await new SpendLedger(db).spent(intentId)).tokens).toBe(call!.reservedTokens);
});

test('a repeated question is answered from the PostgreSQL cache, by a new gateway too, and the hit rate shows it', async () => {
  const config = llmConfig([providerFor(llm)]);
  const intentId = randomUUID();
  const question = `cached question ${randomUUID()}`;
  llm.enqueue(json({ answer: 'once', count: 1 }, { prompt_tokens: 50, completion_tokens: 10 }));
  const first = await ask(new LlmGateway(db, config), intentId, question);
  const second = await ask(new LlmGateway(db, config), intentId, question); // another worker, same database
  expect(llm.requests).toHaveLength(1);
  expect(second.value).toEqual(first.value);
  expect(second.usage).toMatchObject({
    calls: 1,
    cachedCalls: 1,
    promptTokens: 0,
    completionTokens: 0,
    costUsd: 0,
    cached: true,
  });
  expect(await summariseUsage(db, intentId, false)).toMatchObject({
    calls: 2,
    cachedCalls: 1,
    cacheHitRate: 0.5,
    totalTokens: 60,
  });
  expect((await cacheStatistics(db)).hits).toBeGreaterThanOrEqual(1);

  // Other parameters are another question.
  llm.enqueue(json({ answer: 'hot', count: 1 }));
  await ask(new LlmGateway(db, { ...config, temperature: 0.7 }), intentId, question);
  expect(llm.requests).toHaveLength(2);
});

test('the budget is checked against the ledger before each call, so a new gateway (a restarted worker) cannot overspend', async () => {
  const config = llmConfig([providerFor(llm)], { maxOutputTokens: 100 });
  const intentId = randomUUID();
  const budget = { maxTokens: 1_000, maxCostUsd: null };
  llm.responder = () => json({ answer: 'spent', count: 1 }, { prompt_tokens: 400, completion_tokens: 100 });
  await ask(new LlmGateway(db, config), intentId, 'first', budget); // 500 spent
  await expect(ask(new LlmGateway(db, config), intentId, 'second', budget)).resolves.toBeDefined(); // 1000 spent
  await expect(ask(new LlmGateway(db, config), intentId, 'third', budget)).rejects.toThrow(BudgetExceededError);
  expect(llm.requests).toHaveLength(2);
  expect(await new SpendLedger(db).spent(intentId)).toMatchObject({ tokens: 1_000 });
});

test('parallel calls cannot jointly overspend: reservations are taken under a per-intent lock', async () => {
  const config = llmConfig([providerFor(llm)], { maxOutputTokens: 100 });
  const intentId = randomUUID();
  llm.responder = () => ({
    ...json({ answer: 'x', count: 1 }, { prompt_tokens: 10, completion_tokens: 10 }),
    delayMs: 50,
  });
  const gateway = new LlmGateway(db, config);
  // Each call reserves ~110 tokens; 300 fits two reservations, never three at once.
  const results = await Promise.allSettled(
    Array.from({ length: 6 }, (_, i) => ask(gateway, intentId, `parallel ${i}`, { maxTokens: 300, maxCostUsd: null })),
  );
  const spent = await new SpendLedger(db).spent(intentId);
  expect(spent.tokens).toBeLessThanOrEqual(300);
  expect(
    results
      .filter((r) => r.status === 'rejected')
      .every((r) => (r as PromiseRejectedResult).reason instanceof BudgetExceededError),
  ).toBe(true);
});

test('a USD budget needs a priced model; with one, cost is computed per call from the price table', async () => {
  const intentId = randomUUID();
  const unpriced = new LlmGateway(db, llmConfig([providerFor(llm)]));
  await expect(ask(unpriced, intentId, 'q', { maxTokens: null, maxCostUsd: 1 })).rejects.toThrow(/no known price/);
  const priced = new LlmGateway(db, llmConfig([providerFor(llm, { model: 'gpt-4o-mini' })]));
  llm.enqueue(json({ answer: 'cheap', count: 1 }, { prompt_tokens: 1_000_000, completion_tokens: 1_000_000 }));
  const result = await ask(priced, intentId, 'q', { maxTokens: null, maxCostUsd: 5 });
  expect(result.usage.costUsd).toBeCloseTo(0.15 + 0.6, 6);
});

test('providers fail over in order: a failing first provider hands the call to the next', async () => {
  const gateway = new LlmGateway(
    db,
    llmConfig([
      providerFor(llm),
      providerFor(backup, { name: 'openai', model: 'gpt-4o-mini', keyVariable: 'OPENAI_API_KEY' }),
    ]),
  );
  llm.enqueue({ status: 503, error: { message: 'down for maintenance' } });
  backup.enqueue(json({ answer: 'from backup', count: 1 }));
  const result = await ask(gateway);
  expect(result).toMatchObject({ value: { answer: 'from backup' }, provider: 'openai', model: 'gpt-4o-mini' });
  expect(backup.requests[0]!.body).toMatchObject({ max_completion_tokens: 4096 });

  llm.enqueue({ status: 401, error: { message: 'bad key' } });
  backup.enqueue({ status: 429, error: { message: 'slow down' } });
  const both = (await ask(gateway).catch((error: unknown) => error)) as LlmFailure;
  expect(both).toMatchObject({ type: 'LlmRateLimited', retryable: true });
  expect(both.message).toMatch(/every LLM provider failed: .*HTTP 401.*; .*HTTP 429/);
});

test('providers without JSON-schema support get the schema in the prompt (json_object and plain modes)', async () => {
  for (const responseFormat of ['json_object', 'none'] as const) {
    llm.reset();
    const gateway = new LlmGateway(db, llmConfig([providerFor(llm, { responseFormat })]));
    llm.enqueue(json({ answer: responseFormat, count: 1 }));
    await expect(ask(gateway)).resolves.toMatchObject({ value: { answer: responseFormat } });
    const body = llm.requests[0]!.body;
    expect(body.response_format).toEqual(responseFormat === 'json_object' ? { type: 'json_object' } : undefined);
    expect(body.messages.at(-1)!.content).toMatch(/JSON schema named answer/);
  }
});

test('per-provider concurrency: never more requests in flight than the limit', async () => {
  const gateway = new LlmGateway(db, llmConfig([providerFor(llm, { maxConcurrency: 2 })]));
  llm.responder = () => ({ ...json({ answer: 'slow', count: 1 }), delayMs: 100 });
  await Promise.all(Array.from({ length: 6 }, () => ask(gateway)));
  expect(llm.requests).toHaveLength(6);
  expect(llm.peakInFlight).toBe(2);
});
