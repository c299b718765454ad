import { ApplicationFailure } from '@temporalio/activity';
import type { LlmGateway } from '../../adapters/llm';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { Budget } from '../../contracts/budget';
import type { Plan } from '../../contracts/plan';
import { planOffline } from '../agents/offline/offline-planner';
import { intentPrefix } from '../artifacts';
import { toApplicationFailure, whileHeartbeating } from '../llm-failures';
import { planWithLlm } from './llm-planner';
import { MAX_PLAN_TASKS } from './plan-validation';

export interface ParseIntentInput {
  intentId: string;
  text: string;
  /** The intent's budget (from the workflow's policy); the worker's default when absent. */
  budget?: Budget;
}

export { projectNameFor } from './project-name';
export { planIntent } from './skeleton-planner';

/** Where the normalised plan is kept for agents that need the whole picture. */
export const planKey = (intentId: string) => `${intentPrefix(intentId)}/plan.json`;

export function createPlanningActivities(deps: {
  gateway: LlmGateway;
  store: ObjectStore;
  defaultBudget: Budget;
  maxTasks?: number;
}) {
  const maxTasks = Math.min(deps.maxTasks ?? MAX_PLAN_TASKS, MAX_PLAN_TASKS);
  return {
    /** Intent text → plan: through the configured LLM providers, or the offline catalogue when there are none. */
    async parseIntent(input: ParseIntentInput): Promise<Plan> {
      let plan: Plan;
      if (deps.gateway.configured) {
        try {
          plan = await whileHeartbeating((signal) =>
            planWithLlm(deps.gateway, { ...input, budget: input.budget ?? deps.defaultBudget, maxTasks, signal }),
          );
        } catch (error) {
          throw toApplicationFailure(error, { type: 'PlanInvalid', what: "the LLM's plan was" });
        }
      } else {
        const offline = planOffline(input.text);
        if (!offline.ok) throw ApplicationFailure.nonRetryable(offline.reason, 'OutsideOfflineCatalogue');
        plan = offline.plan;
      }
      await deps.store.putJson(planKey(input.intentId), plan);
      return plan;
    },
  };
}
