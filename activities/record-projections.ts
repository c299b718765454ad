import type { Database } from '../adapters/db/client';
import { recordIntent, recordTask } from '../adapters/db/read-model';
import type { IntentProjection, TaskProjection } from '../contracts/state';

/** The read-model writes (adapters/db/read-model.ts) as local activities; idempotent by (intent, seq). */
export function createReadModelActivities(db: Database) {
  return {
    recordIntent: (p: IntentProjection): Promise<void> => recordIntent(db, p),
    recordTask: (p: TaskProjection): Promise<void> => recordTask(db, p),
  };
}
