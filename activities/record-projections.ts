import { ApplicationFailure } from '@temporalio/common';
import type { Database } from '../adapters/db/client';
import { intentAuditEventKey, recordIntent, recordTask } from '../adapters/db/read-model';
import type { WebhookConfig } from '../config/webhooks';
import type { IntentProjection, TaskProjection } from '../contracts/state';
import { startPendingDeliveries } from './webhooks';

/** The read-model writes (adapters/db/read-model.ts) as local activities; idempotent by (intent, seq). */
export function createReadModelActivities(db: Database, webhooks: WebhookConfig) {
  return {
    recordIntent: async (p: IntentProjection): Promise<void> => {
      await requireIntentRow(db, p.intentId);
      await recordIntent(db, p);
      // The write's webhook deliveries (outbox rows committed with it), also when this is a retry.
      await startPendingDeliveries(db, webhooks, [intentAuditEventKey(p)]);
    },
    recordTask: (p: TaskProjection): Promise<void> => recordTask(db, p),
  };
}

/** The API records the intent before it starts the run: a run without its row is an orphan, stopped with the cause. */
async function requireIntentRow(db: Database, intentId: string): Promise<void> {
  if (await db.intent.count({ where: { id: intentId } })) return;
  throw ApplicationFailure.nonRetryable(
    `intent ${intentId} has no row in the read model: its submission was never recorded (or was withdrawn), so this run stops`,
    'IntentNotRecorded',
  );
}
