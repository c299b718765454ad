import type { LlmGateway } from '../adapters/llm';
import { planKey } from '../adapters/storage/artifacts';
import type { ObjectStore } from '../adapters/storage/s3';
import type { Budget } from '../contracts/budget';
import type { Plan } from '../contracts/plan';
import type { ParseIntentInput } from '../contracts/workflow';
import { planFromIntent } from '../agents/planning/plan';
import { IntentText } from '../contracts/intent';
import { checkedInput, refusalFailure } from './failures';
import { heartbeating } from './heartbeat';
import { toApplicationFailure, whileHeartbeating } from './llm-failures';

export function createPlanningActivities(deps: { gateway: LlmGateway; store: ObjectStore; defaultBudget: Budget }) {
  return {
    /** Intent text → plan (agents/planning), kept in S3 for agents that need the whole picture. */
    parseIntent: heartbeating(async (input: ParseIntentInput): Promise<Plan> => {
      checkedInput(IntentText, input.text, 'text');
      const result = await whileHeartbeating((signal) => planFromIntent(deps, { ...input, signal })).catch(
        (error: unknown) => {
          throw toApplicationFailure(error, { type: 'PlanInvalid', what: "the LLM's plan was" });
        },
      );
      if (!result.ok) throw refusalFailure(result);
      await deps.store.putJson(planKey(input.intentId), result.plan);
      return result.plan;
    }),
  };
}
