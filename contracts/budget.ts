import type { LlmUsage } from './usage';

/** A per-intent spending cap, fixed at submission. null means no cap on that axis. */
export interface Budget {
  maxTokens: number | null;
  maxCostUsd: number | null;
  /** The tenant's LLM-tokens-per-UTC-day quota, checked by the ledger before each call (absent: none). */
  tenantDaily?: { tenant: string; maxTokens: number };
}

/** What an intent has spent so far. */
export interface Spend {
  tokens: number;
  costUsd: number;
  /** Calls whose model had no known price: their money is unknown. */
  unpricedCalls: number;
}

/** The most the next call may cost: prompt estimate + its output-token ceiling. */
export interface SpendEstimate {
  tokens: number;
  /** null when the model has no known price. */
  costUsd: number | null;
}

export type BudgetVerdict = { allowed: true } | { allowed: false; reason: string };

export const NOTHING_SPENT: Spend = { tokens: 0, costUsd: 0, unpricedCalls: 0 };

export const UNLIMITED: Budget = { maxTokens: null, maxCostUsd: null };

/**
 * Whether a call estimated at `estimate` may start, given what was already spent.
 * Pure and deterministic: the workflow calls it from its own state, the activities from the ledger.
 */
export function budgetAllows(budget: Budget, spent: Spend, estimate: SpendEstimate): BudgetVerdict {
  if (budget.maxTokens !== null && spent.tokens + estimate.tokens > budget.maxTokens) {
    return {
      allowed: false,
      reason:
        `token budget exhausted: ${spent.tokens} of ${budget.maxTokens} tokens spent, ` +
        `the next call may use up to ${estimate.tokens}`,
    };
  }
  if (budget.maxCostUsd !== null) {
    if (estimate.costUsd === null || spent.unpricedCalls > 0) {
      return {
        allowed: false,
        reason: `cost budget of $${budget.maxCostUsd} cannot be enforced: the model has no known price (add it to LLM_PRICES_FILE)`,
      };
    }
    if (spent.costUsd + estimate.costUsd > budget.maxCostUsd) {
      return {
        allowed: false,
        reason:
          `cost budget exhausted: $${spent.costUsd.toFixed(4)} of $${budget.maxCostUsd} spent, ` +
          `the next call may cost up to $${estimate.costUsd.toFixed(4)}`,
      };
    }
  }
  return { allowed: true };
}

/** Adds an activity's reported usage to what the intent has spent (cache hits add nothing). */
export function addUsage(spent: Spend, usage: LlmUsage): Spend {
  return {
    tokens: spent.tokens + usage.promptTokens + usage.completionTokens,
    costUsd: spent.costUsd + (usage.costUsd ?? 0),
    unpricedCalls: spent.unpricedCalls + (usage.costUsd === null ? Math.max(1, usage.calls - usage.cachedCalls) : 0),
  };
}
