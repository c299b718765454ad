import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import type { Budget } from '../../contracts/budget';
import { NO_USAGE, sumUsage, type LlmUsage } from '../../contracts/usage';
import { LlmFailure } from './errors';
import type { ChatMessage, LlmGateway } from './gateway';

/** Who a review is for and pays for it: the intent's budget, like its planner and agents. */
export interface ReviewScope {
  intentId: string;
  budget: Budget;
  /** The activity's cancellation. */
  signal?: AbortSignal;
  /** Default REVIEW_TIME_LIMIT_MS. */
  timeLimitMs?: number;
}

/** One review request as validation/static/llm-review.ts builds it (the prompt is the domain's). */
export interface ReviewRequest<T> {
  group: { index: number; total: number };
  messages: ChatMessage[];
  schemaName: string;
  schema: z.ZodType<T>;
}

// A review is best effort inside one activity: a short wait on a 429 or 5xx, never the activity's retries,
// which would run every static check again.
const RETRIES = 2;
const MAX_WAIT_MS = 15_000;
// staticReview may take 10 minutes (workflows/activity-options.ts): a slow provider gets part of it, and the
// groups it did not finish are reported as not reviewed instead of the whole layer timing out.
export const REVIEW_TIME_LIMIT_MS = 240_000;

/**
 * Layer 1's LLM reviewer over the gateway: the providers, cache, ledger, limits and error classification
 * the agents use, charged to the intent. One per review; it sums what its calls used.
 */
export class GatewayReviewer {
  usage: LlmUsage = NO_USAGE;
  private readonly answeredBy = new Set<string>();
  private readonly deadline: AbortSignal;
  private readonly signal: AbortSignal;

  constructor(
    private readonly gateway: LlmGateway,
    private readonly scope: ReviewScope,
  ) {
    this.deadline = AbortSignal.timeout(scope.timeLimitMs ?? REVIEW_TIME_LIMIT_MS);
    this.signal = scope.signal ? AbortSignal.any([scope.signal, this.deadline]) : this.deadline;
  }

  /** The providers that answered (`compatible/scripted-model`), or the configured ones before any did. */
  get name(): string {
    return this.answeredBy.size ? [...this.answeredBy].join(', ') : this.gateway.label;
  }

  async review<T>(request: ReviewRequest<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.gateway.completeStructured({
          intentId: this.scope.intentId,
          purpose: 'review',
          schemaName: request.schemaName,
          schema: request.schema,
          messages: request.messages,
          budget: this.scope.budget,
          signal: this.signal,
        });
        this.usage = sumUsage(this.usage, result.usage);
        this.answeredBy.add(`${result.provider}/${result.model}`);
        return result.value;
      } catch (error) {
        const retryable = error instanceof LlmFailure && error.retryable && error.type !== 'LlmCancelled';
        if (!retryable || attempt >= RETRIES || this.signal.aborted) throw this.outOfTime() ?? error;
        const wait = Math.min(error.retryAfterMs ?? 1_000 * 2 ** attempt, MAX_WAIT_MS);
        await sleep(wait, undefined, { signal: this.signal }).catch((stopped: unknown) => {
          throw this.outOfTime() ?? stopped;
        });
      }
    }
  }

  /** The review's own time limit ran out (not the activity's cancellation): say so, not "cancelled". */
  private outOfTime(): LlmFailure | undefined {
    if (!this.deadline.aborted || this.scope.signal?.aborted) return undefined;
    const seconds = (this.scope.timeLimitMs ?? REVIEW_TIME_LIMIT_MS) / 1000;
    return new LlmFailure('LlmTimeout', false, `the review did not finish within its ${seconds} s time limit`);
  }
}

/**
 * A reviewer per review when providers are configured, charged to the intent's budget (the worker's
 * default for intents that carry none); none offline, so the review is reported as skipped.
 */
export function gatewayReviewers(
  gateway: LlmGateway,
  defaultBudget: Budget,
): ((scope: Omit<ReviewScope, 'budget'> & { budget?: Budget }) => GatewayReviewer) | undefined {
  if (!gateway.configured) return undefined;
  return (scope) => new GatewayReviewer(gateway, { ...scope, budget: scope.budget ?? defaultBudget });
}
