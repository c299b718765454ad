import { ApplicationFailure, Context } from '@temporalio/activity';
import { BudgetExceededError, InvalidOutputError, LlmFailure } from '../adapters/llm';
import { UNSAFE_PATH } from '../agents/llm/output-policy';
import { HEARTBEAT_EVERY_MS } from './heartbeat';

const INVALID_OUTPUT = { type: 'LlmInvalidOutput', what: "the LLM's output was" };

/**
 * LLM errors as Temporal sees them: retryable ones (429, 5xx, timeouts) go back to the activity's
 * retry policy, honouring Retry-After; the rest fail the activity for good with a type people can
 * search for (LlmAuthFailed, LlmBadRequest, BudgetExceeded, …) and a message without secrets.
 */
export function toApplicationFailure(
  error: unknown,
  invalid: { type: string; what: string } = INVALID_OUTPUT,
): unknown {
  if (error instanceof BudgetExceededError) {
    return ApplicationFailure.create({
      message: `budget exceeded: ${error.message}`,
      type: 'BudgetExceeded',
      nonRetryable: true,
    });
  }
  if (error instanceof InvalidOutputError) {
    const type =
      invalid.type === 'OutputRejected' && error.problems.some((p) => p.includes(UNSAFE_PATH))
        ? 'UnsafeOutputPath'
        : invalid.type;
    const message = `${invalid.what} still invalid after one repair round: ${error.problems.join('; ')}`;
    return ApplicationFailure.create({ message, type, nonRetryable: true });
  }
  if (error instanceof LlmFailure) {
    return ApplicationFailure.create({
      message: error.message,
      type: error.type,
      nonRetryable: !error.retryable,
      ...(error.retryAfterMs !== undefined && { nextRetryDelay: Math.min(error.retryAfterMs, 120_000) }),
    });
  }
  return error;
}

/**
 * Runs LLM work inside an activity, heartbeating so a long completion is not mistaken for a dead
 * worker, and handing over the activity's cancellation signal. Outside an activity it just runs.
 */
export async function whileHeartbeating<T>(work: (signal?: AbortSignal) => Promise<T>): Promise<T> {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return work(undefined);
  }
  const timer = setInterval(() => context.heartbeat({ phase: 'waiting for the LLM' }), HEARTBEAT_EVERY_MS);
  try {
    return await work(context.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}
