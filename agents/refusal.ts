/**
 * Why a planner or agent declines the work for good, as a value: the intent is outside the offline
 * catalogue, or a task was planned for an LLM and none is configured. The activity fails with `type`,
 * never retried; LLM errors (budget, provider, invalid output) are thrown as the gateway raised them.
 */
export interface Refusal {
  ok: false;
  type: 'OutsideOfflineCatalogue' | 'LlmNotConfigured';
  reason: string;
}
