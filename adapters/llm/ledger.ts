import { randomUUID } from 'node:crypto';
import { budgetAllows, type Budget, type Spend, type SpendEstimate } from '../../contracts/budget';
import { roundUsd, type LlmUsageView } from '../../contracts/usage';
import type { Database } from '../db/client';

/** The intent's budget would be exceeded by the next call: nothing was sent. */
export class BudgetExceededError extends Error {
  override name = 'BudgetExceededError';
}

export interface CallIdentity {
  intentId: string;
  taskId?: string;
  purpose: string;
  provider: string;
  model: string;
}

// In flight (reserved) or cut off by a timeout (the provider may have billed it): the reservation counts.
const SPENT_SQL = `
  SELECT
    COALESCE(SUM(CASE WHEN state = 'settled' THEN prompt_tokens + completion_tokens
                      WHEN state IN ('reserved', 'timed_out') THEN reserved_tokens ELSE 0 END), 0)::float8 AS tokens,
    COALESCE(SUM(CASE WHEN state = 'settled' THEN COALESCE(cost_usd, 0)
                      WHEN state IN ('reserved', 'timed_out') THEN COALESCE(reserved_cost_usd, 0) ELSE 0 END), 0)::float8 AS cost,
    COUNT(*) FILTER (WHERE (state = 'settled' AND cost_usd IS NULL)
                        OR (state IN ('reserved', 'timed_out') AND reserved_cost_usd IS NULL))::int AS unpriced
  FROM llm_calls WHERE intent_id = $1::uuid`;

/**
 * The spend ledger in PostgreSQL. A call is reserved (worst case) before it is sent and settled
 * with its real usage after; the budget check and the reservation happen under a per-intent lock,
 * so parallel tasks, retries and restarted workers all see every call, finished or not.
 */
export class SpendLedger {
  constructor(private readonly db: Database) {}

  async spent(intentId: string): Promise<Spend> {
    const [row] = await this.db.$queryRawUnsafe<{ tokens: number; cost: number; unpriced: number }[]>(
      SPENT_SQL,
      intentId,
    );
    return { tokens: row?.tokens ?? 0, costUsd: roundUsd(row?.cost ?? 0), unpricedCalls: row?.unpriced ?? 0 };
  }

  /** Records the call as in flight, or throws BudgetExceededError without recording anything. */
  async reserve(call: CallIdentity, estimate: SpendEstimate, budget: Budget): Promise<string> {
    const id = randomUUID();
    await this.db.$transaction(async (tx) => {
      await tx.$queryRawUnsafe(`SELECT pg_advisory_xact_lock(hashtextextended($1, 7301))::text`, call.intentId);
      const [row] = await tx.$queryRawUnsafe<{ tokens: number; cost: number; unpriced: number }[]>(
        SPENT_SQL,
        call.intentId,
      );
      const spent = { tokens: row?.tokens ?? 0, costUsd: row?.cost ?? 0, unpricedCalls: row?.unpriced ?? 0 };
      const verdict = budgetAllows(budget, spent, estimate);
      if (!verdict.allowed) throw new BudgetExceededError(verdict.reason);
      if (budget.tenantDaily) await checkTenantDaily(tx, budget.tenantDaily, estimate.tokens);
      await tx.llmCall.create({
        data: {
          id,
          ...call,
          state: 'reserved',
          reservedTokens: estimate.tokens,
          reservedCostUsd: estimate.costUsd,
        },
      });
    });
    return id;
  }

  async settle(
    id: string,
    usage: { promptTokens: number; completionTokens: number; costUsd: number | null; latencyMs: number },
  ) {
    await this.db.llmCall.update({ where: { id }, data: { state: 'settled', ...usage, settledAt: new Date() } });
  }

  /** A failed call: an HTTP error costs nothing; a timeout keeps its reservation (it may have been billed). */
  async fail(id: string, failure: { error: string; timedOut: boolean; latencyMs: number }) {
    await this.db.llmCall.update({
      where: { id },
      data: {
        state: failure.timedOut ? 'timed_out' : 'failed',
        error: failure.error,
        latencyMs: failure.latencyMs,
        settledAt: new Date(),
      },
    });
  }

  async recordCacheHit(call: CallIdentity): Promise<void> {
    await this.db.llmCall.create({
      data: { id: randomUUID(), ...call, state: 'cached', costUsd: 0, settledAt: new Date() },
    });
  }
}

const utcMidnight = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));

/** The tenant's daily token quota, under a per-tenant lock so parallel intents count each other's reservations. */
async function checkTenantDaily(
  tx: Pick<Database, '$queryRaw' | '$queryRawUnsafe'>,
  daily: { tenant: string; maxTokens: number },
  next: number,
): Promise<void> {
  await tx.$queryRawUnsafe(`SELECT pg_advisory_xact_lock(hashtextextended($1, 7302))::text`, daily.tenant);
  const used = await tenantTokensSince(tx, daily.tenant, utcMidnight(new Date()));
  if (used + next > daily.maxTokens) {
    throw new BudgetExceededError(
      `tenant ${daily.tenant}'s daily LLM token quota is exhausted: ${used} of ${daily.maxTokens} tokens used today (UTC), the next call may use up to ${next}`,
    );
  }
}

/** LLM tokens a tenant's intents used (or hold reserved) since `since`. */
export async function tenantTokensSince(db: Pick<Database, '$queryRaw'>, tenant: string, since: Date): Promise<number> {
  const [row] = await db.$queryRaw<{ tokens: bigint | null }[]>`
    SELECT SUM(GREATEST(c.prompt_tokens + c.completion_tokens, c.reserved_tokens)) AS tokens
    FROM llm_calls c JOIN intents i ON i.id = c.intent_id
    WHERE i.tenant = ${tenant} AND c.created_at >= ${since}`;
  return Number(row?.tokens ?? 0);
}

/** An intent's LLM usage as the API and CLI show it, failed attempts and cut-off calls included. */
export async function summariseUsage(db: Database, intentId: string, offline: boolean): Promise<LlmUsageView> {
  const rows = await db.llmCall.groupBy({
    by: ['state'],
    where: { intentId },
    _count: { _all: true },
    _sum: { promptTokens: true, completionTokens: true, costUsd: true, reservedTokens: true },
  });
  const get = (state: string) => rows.find((row) => row.state === state);
  const settled = get('settled');
  const cached = get('cached')?._count._all ?? 0;
  const calls = (settled?._count._all ?? 0) + cached;
  const unpriced = await db.llmCall.count({ where: { intentId, state: 'settled', costUsd: null } });
  const promptTokens = settled?._sum.promptTokens ?? 0;
  const completionTokens = settled?._sum.completionTokens ?? 0;
  return {
    mode: offline ? 'offline' : 'llm',
    calls,
    cachedCalls: cached,
    cacheHitRate: calls ? cached / calls : null,
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    costUsd: unpriced ? null : roundUsd(settled?._sum.costUsd ?? 0),
    failedCalls: (get('failed')?._count._all ?? 0) + (get('timed_out')?._count._all ?? 0),
  };
}

/** The response cache's hit rate over every recorded call (or those since `since`). */
export async function cacheStatistics(db: Database, scope: { since?: Date; tenants?: string[] } = {}) {
  const since = scope.since ?? new Date(0);
  // Scoped in the query itself: calls of the tenants' intents only (the cache is shared; its size is not per tenant).
  const [counts, entries] = await Promise.all([
    scope.tenants
      ? db.$queryRaw<{ calls: bigint; hits: bigint }[]>`
          SELECT COUNT(*) FILTER (WHERE c.state IN ('settled', 'cached')) AS calls,
                 COUNT(*) FILTER (WHERE c.state = 'cached') AS hits
          FROM llm_calls c JOIN intents i ON i.id = c.intent_id
          WHERE i.tenant = ANY(${scope.tenants}) AND c.created_at >= ${since}`
      : db.$queryRaw<{ calls: bigint; hits: bigint }[]>`
          SELECT COUNT(*) FILTER (WHERE state IN ('settled', 'cached')) AS calls,
                 COUNT(*) FILTER (WHERE state = 'cached') AS hits
          FROM llm_calls WHERE created_at >= ${since}`,
    db.llmCacheEntry.count(),
  ]);
  const calls = Number(counts[0]?.calls ?? 0);
  const hits = Number(counts[0]?.hits ?? 0);
  return { calls, hits, hitRate: calls ? hits / calls : null, entries };
}
