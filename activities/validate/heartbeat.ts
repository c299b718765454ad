import { heartbeat } from '@temporalio/activity';

const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Heartbeats on a timer while `work` runs, with the current phase as details: a single long step
 * (semgrep on a large project) must not look like a dead worker.
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
