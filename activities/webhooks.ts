import { ApplicationFailure, Context } from '@temporalio/activity';
import { envelopeOf, loadDelivery, markDead, pendingDeliveries, recordAttempt } from '../adapters/webhooks/outbox';
import { sendWebhook, type AttemptResult } from '../adapters/webhooks/send';
import { WebhookTargetRefused } from '../adapters/webhooks/ssrf';
import { startWebhookDeliveries } from '../adapters/webhooks/start';
import type { Database } from '../adapters/db/client';
import type { WebhookConfig } from '../config/webhooks';
import type { WebhookFinalFailure } from '../contracts/webhooks';

// Webhook delivery as activities (docs/webhooks.md): one HTTP attempt per activity attempt, so Temporal's
// retry policy is the backoff, and a worker crash loses nothing. The secret is read here, from the
// database: it never enters a workflow's history.

/** 4xx but 408 (timeout) and 429 (slow down) mean the receiver will refuse this request however often it comes. */
const isFinalStatus = (code: number) => code >= 400 && code < 500 && code !== 408 && code !== 429;
const final = (message: string, type: WebhookFinalFailure) => ApplicationFailure.nonRetryable(message, type);

export function createWebhookActivities(db: Database, config: WebhookConfig) {
  return {
    /** One attempt: sends the event, logs the attempt, and fails (retryably or not) unless the receiver said 2xx. */
    async deliverWebhook(deliveryId: string): Promise<{ statusCode: number }> {
      const delivery = await loadDelivery(db, deliveryId);
      if (!delivery) throw final(`webhook delivery ${deliveryId} does not exist`, 'WebhookGone');
      // Delivered by an attempt whose completion was lost (a crash after the receiver answered): done.
      if (delivery.status === 'DELIVERED') return { statusCode: delivery.lastStatusCode ?? 200 };
      const { subscription } = delivery;
      if (delivery.status === 'DEAD' || subscription.deletedAt || !subscription.enabled) {
        const reason = delivery.status === 'DEAD' ? 'the delivery was dead-lettered' : 'the subscription was deleted';
        await markDead(db, deliveryId, reason);
        throw final(reason, 'WebhookGone');
      }
      const { attempt } = Context.current().info;
      const startedAt = new Date();
      let result: AttemptResult;
      let refused = false;
      try {
        const target = {
          url: subscription.url,
          secret: subscription.secret,
          headers: (subscription.headers ?? {}) as Record<string, string>,
          timeoutMs: subscription.timeoutMs,
        };
        result = await sendWebhook(target, envelopeOf(delivery), config);
      } catch (error) {
        // The SSRF guard refused the target, or its host did not resolve: logged like any failed attempt.
        refused = error instanceof WebhookTargetRefused;
        const reason = (error as Error).message;
        result = { statusCode: null, error: refused ? `target refused: ${reason}` : reason, durationMs: 0 };
      }
      await recordAttempt(db, deliveryId, attempt, startedAt, result);
      const code = result.statusCode;
      if (code !== null && code >= 200 && code < 300) return { statusCode: code };
      const message = `attempt ${attempt}: ${result.error ?? 'failed'}`;
      if (refused) throw final(message, 'WebhookTargetRefused');
      if (code !== null && isFinalStatus(code)) throw final(message, 'WebhookRejected');
      throw ApplicationFailure.retryable(message, 'WebhookFailed');
    },

    /** After the last failed attempt: the delivery becomes a dead letter, its last error kept. */
    async deadLetterWebhook(deliveryId: string): Promise<void> {
      await markDead(db, deliveryId);
    },
  };
}

/**
 * Starts the workflows of the deliveries of these audit events that are still pending, through the
 * worker's own client, on the calling workflow's task queue: after the commit that wrote them, and on
 * every retry of that write, so a crash between the two still delivers.
 */
export async function startPendingDeliveries(
  db: Database,
  config: WebhookConfig,
  auditEventKeys: readonly string[],
): Promise<void> {
  const pending = await pendingDeliveries(db, auditEventKeys);
  if (pending.length === 0) return;
  const { client, info } = Context.current();
  await startWebhookDeliveries(client, info.taskQueue, pending, config.retry);
}
