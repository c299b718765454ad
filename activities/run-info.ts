import { Context } from '@temporalio/activity';
import type { ActivityRun } from '../contracts/artifacts';

/**
 * Adds how the activity ran (attempt, start and end time) to its result, so workflows can show
 * per-task timings and attempts without reading a clock themselves.
 */
export function withRunInfo<A extends unknown[], R extends object>(fn: (...args: A) => Promise<R>) {
  return async (...args: A): Promise<R & { run: ActivityRun }> => {
    const startedAt = new Date().toISOString();
    const result = await fn(...args);
    return {
      ...result,
      run: { attempt: Context.current().info.attempt, startedAt, finishedAt: new Date().toISOString() },
    };
  };
}
