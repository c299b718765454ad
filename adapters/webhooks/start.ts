import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '@temporalio/client';
import type { WebhookConfig } from '../../config/webhooks';
import { webhookDeliveryWorkflowId, type WebhookDeliveryInput } from '../../contracts/webhooks';
import type { DeliveryToStart } from './outbox';

/**
 * Starts each delivery's workflow (`webhook-<deliveryId>`). Idempotent: a running one is joined, a
 * finished one is not started again, so a retried caller starts nothing new.
 */
export async function startWebhookDeliveries(
  client: Client,
  taskQueue: string,
  deliveries: readonly DeliveryToStart[],
  retry: WebhookConfig['retry'],
): Promise<void> {
  await Promise.all(
    deliveries.map(async (delivery) => {
      const input: WebhookDeliveryInput = {
        deliveryId: delivery.id,
        maxAttempts: delivery.maxAttempts,
        timeoutMs: delivery.timeoutMs,
        initialIntervalMs: retry.initialIntervalMs,
        maximumIntervalMs: retry.maximumIntervalMs,
      };
      try {
        await client.workflow.start('webhookDeliveryWorkflow', {
          taskQueue,
          workflowId: webhookDeliveryWorkflowId(delivery.id),
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: [input],
          staticSummary: `Webhook ${delivery.eventType} to ${hostOf(delivery.url)}`,
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
    }),
  );
}

/** Only the host: a URL's path or query may carry a token. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an invalid URL';
  }
}
