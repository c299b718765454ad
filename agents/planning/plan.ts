import type { LlmGateway } from '../../adapters/llm';
import type { Budget } from '../../contracts/budget';
import { DEFAULT_MAX_PLAN_TASKS, type Plan } from '../../contracts/plan';
import type { ParseIntentInput } from '../../contracts/workflow';
import { planOffline } from '../offline/offline-planner';
import type { Refusal } from '../refusal';
import { planWithLlm } from './llm-planner';

export interface PlannerDependencies {
  gateway: LlmGateway;
  /** The worker's budget, for intents that carry none. */
  defaultBudget: Budget;
}

/**
 * Intent text → plan: through the configured LLM providers, or the offline catalogue when there are
 * none (an intent outside it is refused). LLM errors are thrown as the gateway raised them.
 */
export async function planFromIntent(
  deps: PlannerDependencies,
  input: ParseIntentInput & { signal?: AbortSignal },
): Promise<{ ok: true; plan: Plan } | Refusal> {
  if (deps.gateway.configured) {
    const plan = await planWithLlm(deps.gateway, {
      intentId: input.intentId,
      text: input.text,
      budget: input.budget ?? deps.defaultBudget,
      maxTasks: input.maxTasks ?? DEFAULT_MAX_PLAN_TASKS,
      signal: input.signal,
    });
    return { ok: true, plan };
  }
  const offline = planOffline(input.text);
  return offline.ok ? offline : { ok: false, type: 'OutsideOfflineCatalogue', reason: offline.reason };
}
