import { z } from 'zod';

/** What the LLM calls of one activity (or one intent, summed) consumed. Deterministic data: safe in workflow code. */
export interface LlmUsage {
  /** Calls answered by a provider or by the cache. */
  calls: number;
  /** Of those, answered from the response cache (no tokens spent). */
  cachedCalls: number;
  promptTokens: number;
  completionTokens: number;
  /** null when a call used a model without a known price: tokens are still counted. */
  costUsd: number | null;
  /** True when every call was a cache hit. */
  cached: boolean;
  /** True when the deterministic offline catalogue answered and no LLM was involved. */
  offline: boolean;
}

export const NO_USAGE: LlmUsage = {
  calls: 0,
  cachedCalls: 0,
  promptTokens: 0,
  completionTokens: 0,
  costUsd: 0,
  cached: false,
  offline: false,
};

export const OFFLINE_USAGE: LlmUsage = { ...NO_USAGE, offline: true };

/** Sums usages; cost stays null once any part of it is unknown, so nobody reads an undercount as a total. */
export function sumUsage(a: LlmUsage, b: LlmUsage): LlmUsage {
  const calls = a.calls + b.calls;
  const cachedCalls = a.cachedCalls + b.cachedCalls;
  return {
    calls,
    cachedCalls,
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    costUsd: a.costUsd === null || b.costUsd === null ? null : roundUsd(a.costUsd + b.costUsd),
    cached: calls > 0 && cachedCalls === calls,
    offline: a.offline && b.offline,
  };
}

export const roundUsd = (value: number) => Math.round(value * 1e8) / 1e8;

/** The per-intent usage the API and CLI show (summed from the llm_calls ledger, failed attempts included). */
export const LlmUsageView = z.object({
  mode: z.enum(['llm', 'offline']),
  calls: z.number().int(),
  cachedCalls: z.number().int(),
  cacheHitRate: z.number().nullable().describe('cached calls / calls; null before any call'),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  totalTokens: z.number().int(),
  costUsd: z.number().nullable().describe('null when a model had no known price'),
  failedCalls: z.number().int(),
});
export type LlmUsageView = z.infer<typeof LlmUsageView>;
