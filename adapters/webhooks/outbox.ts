import { randomUUID } from 'node:crypto';
import type { WebhookEnvelope, WebhookEventType } from '../../contracts/webhooks';
import type { Prisma, WebhookDelivery, WebhookSubscription } from '../../generated/prisma/client';
import type { Database } from '../db/client';
import type { WebhookEventDraft } from './events';
import type { AttemptResult } from './send';
import { webhookEventId } from './signing';

// The webhook outbox: delivery rows written with the audit event they come from (same transaction),
// then each delivered by its own workflow. Rows are unique per (subscription, event id, redelivery),
// so a retried write adds nothing.

/** In the read model's transaction: a PENDING delivery per enabled subscription of the tenant that takes the event. */
export async function enqueueWebhookEvents(
  tx: Prisma.TransactionClient,
  source: { tenant: string; intentId: string; auditEventKey: string; occurredAt: Date },
  events: readonly WebhookEventDraft[],
): Promise<void> {
  if (events.length === 0) return;
  const subscriptions = await tx.webhookSubscription.findMany({
    where: { tenant: source.tenant, enabled: true, deletedAt: null, events: { hasSome: events.map((e) => e.type) } },
    select: { id: true, events: true },
  });
  const rows = subscriptions.flatMap((subscription) =>
    events
      .filter((event) => subscription.events.includes(event.type))
      .map((event) => ({
        id: randomUUID(),
        subscriptionId: subscription.id,
        tenant: source.tenant,
        eventId: webhookEventId(source.auditEventKey, event.type),
        eventType: event.type,
        intentId: source.intentId,
        auditEventKey: source.auditEventKey,
        data: event.data as Prisma.InputJsonObject,
        occurredAt: source.occurredAt,
      })),
  );
  if (rows.length) await tx.webhookDelivery.createMany({ data: rows, skipDuplicates: true });
}

/** A delivery to start, with what its workflow's retry policy needs. */
export interface DeliveryToStart {
  id: string;
  eventType: string;
  url: string;
  maxAttempts: number;
  timeoutMs: number;
}

/** The deliveries of these audit events not yet delivered or dead-lettered (their workflows may not have started). */
export async function pendingDeliveries(db: Database, auditEventKeys: readonly string[]): Promise<DeliveryToStart[]> {
  const rows = await db.webhookDelivery.findMany({
    where: { auditEventKey: { in: [...auditEventKeys] }, status: 'PENDING' },
    select: { id: true, eventType: true, subscription: { select: { url: true, maxAttempts: true, timeoutMs: true } } },
  });
  return rows.map((row) => ({ id: row.id, eventType: row.eventType, ...row.subscription }));
}

export type DeliveryWithSubscription = WebhookDelivery & { subscription: WebhookSubscription };

export function loadDelivery(db: Database, id: string): Promise<DeliveryWithSubscription | null> {
  return db.webhookDelivery.findUnique({ where: { id }, include: { subscription: true } });
}

/** The JSON body every delivery of this event sends (redeliveries too: same id). */
export function envelopeOf(delivery: WebhookDelivery): WebhookEnvelope {
  return {
    id: delivery.eventId,
    type: delivery.eventType as WebhookEventType,
    createdAt: delivery.occurredAt.toISOString(),
    tenant: delivery.tenant,
    intentId: delivery.intentId,
    data: (delivery.data ?? {}) as Record<string, unknown>,
  };
}

/** Logs one attempt and its outcome on the delivery; a 2xx marks it delivered. An attempt logged twice keeps the first. */
export async function recordAttempt(
  db: Database,
  deliveryId: string,
  attempt: number,
  startedAt: Date,
  result: AttemptResult,
): Promise<void> {
  const delivered = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
  await db.$transaction([
    db.webhookAttempt.createMany({
      data: [{ deliveryId, attempt, startedAt, ...result }],
      skipDuplicates: true,
    }),
    db.webhookDelivery.updateMany({
      where: { id: deliveryId, status: 'PENDING' },
      data: {
        attempts: attempt,
        lastStatusCode: result.statusCode,
        lastError: result.error,
        ...(delivered && { status: 'DELIVERED', deliveredAt: new Date() }),
      },
    }),
  ]);
}

/** The dead letter: a delivery that ran out of attempts (or can never succeed), with its last error kept. */
export async function markDead(db: Database, deliveryId: string, reason?: string): Promise<void> {
  await db.webhookDelivery.updateMany({
    where: { id: deliveryId, status: 'PENDING' },
    data: { status: 'DEAD', deadAt: new Date(), ...(reason && { lastError: reason }) },
  });
}

/** A new delivery of the same event (same id, body and subscription), numbered after the latest. */
export async function createRedelivery(db: Database, original: WebhookDelivery): Promise<WebhookDelivery> {
  const latest = await db.webhookDelivery.aggregate({
    where: { subscriptionId: original.subscriptionId, eventId: original.eventId },
    _max: { redelivery: true },
  });
  const { subscriptionId, tenant, eventId, eventType, intentId, auditEventKey, occurredAt } = original;
  return db.webhookDelivery.create({
    data: {
      id: randomUUID(),
      subscriptionId,
      tenant,
      eventId,
      eventType,
      intentId,
      auditEventKey,
      occurredAt,
      data: (original.data ?? {}) as Prisma.InputJsonObject,
      redelivery: (latest._max.redelivery ?? 0) + 1,
    },
  });
}
