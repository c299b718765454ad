import { randomUUID } from 'node:crypto';
import { ServiceError, type WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';

const ATTEMPTS = 5;

/**
 * The server rejects an update with FAILED_PRECONDITION when the workflow task carrying it fails for an
 * unrelated reason, e.g. an activity completing at the same moment (UnhandledCommand). That is transient.
 */
function isTransient(error: unknown): boolean {
  const cause = (error as { cause?: { code?: number; details?: string } }).cause;
  return error instanceof ServiceError && cause?.code === 9 && /workflow task failure/i.test(cause.details ?? '');
}

/** Executes an update, retrying transient rejections under one update id, so the workflow applies it once. */
export async function executeUpdate<Ret, Args extends [unknown, ...unknown[]]>(
  handle: WorkflowHandle,
  definition: UpdateDefinition<Ret, Args>,
  args: Args,
): Promise<Ret> {
  const updateId = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      return await handle.executeUpdate(definition, { args, updateId });
    } catch (error) {
      if (attempt >= ATTEMPTS || !isTransient(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
