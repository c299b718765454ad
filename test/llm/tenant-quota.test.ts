import { randomUUID } from 'node:crypto';
import { createDatabase, type Database } from '../../adapters/db/client';
import { BudgetExceededError, SpendLedger } from '../../adapters/llm/ledger';
import { UNLIMITED } from '../../contracts/budget';
import { intentWorkflowId } from '../../contracts/intent';

// The tenant's LLM-tokens-per-day quota, as the ledger enforces it before every call of a running intent.

let db: Database;
beforeAll(() => {
  db = createDatabase(process.env.DATABASE_URL!, { maxConnections: 5 });
});
afterAll(async () => {
  await db.$disconnect();
});

async function intentOf(tenant: string): Promise<string> {
  const id = randomUUID();
  await db.intent.create({ data: { id, tenant, text: 'quota test', workflowId: intentWorkflowId(id) } });
  return id;
}

const call = (intentId: string) => ({
  intentId,
  purpose: 'plan',
  provider: 'compatible',
  model: 'test-model',
});

test("a call that would take the tenant over its daily quota is refused, counting the tenant's other intents", async () => {
  const tenant = `quota-${randomUUID().slice(0, 8)}`;
  const ledger = new SpendLedger(db);
  const budget = { ...UNLIMITED, tenantDaily: { tenant, maxTokens: 1_000 } };
  const first = await intentOf(tenant);
  const id = await ledger.reserve(call(first), { tokens: 600, costUsd: null }, budget);
  await ledger.settle(id, { promptTokens: 300, completionTokens: 300, costUsd: null, latencyMs: 5 });

  // Another intent of the same tenant: 600 used + 500 > 1000.
  const second = await intentOf(tenant);
  await expect(ledger.reserve(call(second), { tokens: 500, costUsd: null }, budget)).rejects.toThrow(
    new BudgetExceededError(
      `tenant ${tenant}'s daily LLM token quota is exhausted: 600 of 1000 tokens used today (UTC), the next call may use up to 500`,
    ),
  );
  // A smaller call still fits; another tenant is not affected by this one's use.
  await expect(ledger.reserve(call(second), { tokens: 400, costUsd: null }, budget)).resolves.toEqual(
    expect.any(String),
  );
  const other = `quota-${randomUUID().slice(0, 8)}`;
  const elsewhere = await intentOf(other);
  await expect(
    ledger.reserve(
      call(elsewhere),
      { tokens: 900, costUsd: null },
      { ...UNLIMITED, tenantDaily: { tenant: other, maxTokens: 1_000 } },
    ),
  ).resolves.toEqual(expect.any(String));
});

test('parallel calls of one tenant count each other: never more than the quota reserved', async () => {
  const tenant = `quota-${randomUUID().slice(0, 8)}`;
  const ledger = new SpendLedger(db);
  const budget = { ...UNLIMITED, tenantDaily: { tenant, maxTokens: 1_000 } };
  const intents = await Promise.all(Array.from({ length: 5 }, () => intentOf(tenant)));
  const results = await Promise.allSettled(
    intents.flatMap((id) => [1, 2].map(() => ledger.reserve(call(id), { tokens: 300, costUsd: null }, budget))),
  );
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
  expect(
    results
      .filter((r) => r.status === 'rejected')
      .every((r) => (r as PromiseRejectedResult).reason instanceof BudgetExceededError),
  ).toBe(true);
});
