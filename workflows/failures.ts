import { TemporalFailure } from '@temporalio/workflow';

/** The innermost message of a failure chain: what a person needs to read, not the wrappers. */
export function failureMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof TemporalFailure && current.cause) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
