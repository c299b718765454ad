import { ApplicationFailure } from '@temporalio/activity';
import { ArtifactError } from '../adapters/storage/artifacts';
import type { Refusal } from '../agents/refusal';
import type { z } from 'zod';

/** A planner's or agent's refusal (outside the offline catalogue, no LLM configured) fails the activity for good. */
export const refusalFailure = (refusal: Refusal) => ApplicationFailure.nonRetryable(refusal.reason, refusal.type);

/**
 * Checks a field of an activity's input with its contract (the same one the API applies), or fails the
 * activity for good naming the field: input that arrived around the API (temporal CLI) gets no retries.
 */
export function checkedInput<T extends z.ZodType>(schema: T, value: unknown, field: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const reasons = result.error.issues.map((issue) => `${[field, ...issue.path].join('.')} ${issue.message}`);
  throw ApplicationFailure.nonRetryable(`invalid input: ${reasons.join('; ')}`, 'InvalidInput');
}

/** An artifact no retry can fix (unsafe path, corrupt, clashing) fails the activity for good, with its type. */
export function artifactFailure(error: unknown): unknown {
  return error instanceof ArtifactError ? ApplicationFailure.nonRetryable(error.message, error.type) : error;
}

/** The activity, with artifact errors turned into non-retryable failures (see artifactFailure). */
export function failingArtifacts<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (error) {
      throw artifactFailure(error);
    }
  };
}
