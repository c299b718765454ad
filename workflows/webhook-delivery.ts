import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { webhookFinalFailures, type WebhookDeliveryInput, type WebhookDeliveryOutcome } from '../contracts/webhooks';

// Room around an attempt's HTTP timeout for the DNS lookup (at most 5 s) and the database writes.
const ATTEMPT_OVERHEAD_MS = 30_000;

const { deadLetterWebhook } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 50 },
});

/**
 * One webhook delivery (workflow id `webhook-<deliveryId>`): an HTTP attempt per activity attempt, with
 * exponential backoff up to the subscription's limit, then a dead letter. A 4xx (but 408 and 429) or a
 * refused target ends it at once. Its input holds ids and numbers only: the secret stays in the database.
 */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<WebhookDeliveryOutcome> {
  const { deliverWebhook } = proxyActivities<Activities>({
    startToCloseTimeout: input.timeoutMs + ATTEMPT_OVERHEAD_MS,
    retry: {
      initialInterval: input.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: input.maximumIntervalMs,
      maximumAttempts: input.maxAttempts,
      nonRetryableErrorTypes: [...webhookFinalFailures],
    },
  });
  try {
    await deliverWebhook(input.deliveryId);
    return { status: 'DELIVERED' };
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    await deadLetterWebhook(input.deliveryId);
    return { status: 'DEAD' };
  }
}
