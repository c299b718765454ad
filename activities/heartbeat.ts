import { Context, heartbeat } from '@temporalio/activity';

/**
 * How often a running activity heartbeats. Its heartbeat timeout (workflows/activity-options.ts, 15 s)
 * is several of these, so a live worker never misses it, and a dead one's work is retried elsewhere
 * within those 15 s rather than at its start-to-close timeout.
 */
export const HEARTBEAT_EVERY_MS = 2_000;

/**
 * Heartbeats on a timer while `work` runs, with the current phase as details: a single long step
 * (semgrep on a large project, an upload) must not look like a dead worker.
 */
export async function withHeartbeat<T>(work: (setPhase: (phase: string) => void) => Promise<T>): Promise<T> {
  let phase = 'starting';
  heartbeat({ phase });
  const timer = setInterval(() => heartbeat({ phase }), HEARTBEAT_EVERY_MS);
  try {
    return await work((next) => {
      phase = next;
      heartbeat({ phase });
    });
  } finally {
    clearInterval(timer);
  }
}

/** An activity function that heartbeats for as long as it runs (outside an activity, e.g. in unit tests, it just runs). */
export function heartbeating<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return (...args) => {
    try {
      Context.current();
    } catch {
      return fn(...args);
    }
    return withHeartbeat(() => fn(...args));
  };
}
