import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { appendAuditEvent } from '../../adapters/db/audit';
import { createRedelivery, type DeliveryToStart } from '../../adapters/webhooks/outbox';
import { generateWebhookSecret } from '../../adapters/webhooks/signing';
import {
  parseWebhookUrl,
  resolveWebhookTarget,
  WebhookTargetRefused,
  WebhookTargetUnresolved,
} from '../../adapters/webhooks/ssrf';
import { startWebhookDeliveries } from '../../adapters/webhooks/start';
import type { Principal } from '../../contracts/identity';
import {
  CreateWebhookRequest,
  ListDeliveriesQuery,
  WebhookDeliveryPath,
  WebhookPath,
  type CreatedWebhookView,
  type WebhookDeliveryPage,
  type WebhookDeliveryView,
  type WebhookEventType,
  type WebhookList,
  type WebhookView,
} from '../../contracts/webhooks';
import {
  Prisma,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookSubscription,
} from '../../generated/prisma/client';
import { authorize, tenantScope } from '../auth/guard';
import type { ApiDependencies } from '../dependencies';
import { notFound, Problem } from '../problems';
import { parse } from '../validate';

// Webhook subscriptions of a tenant, managed by its admins (docs/webhooks.md). Another tenant's
// subscription answers exactly like one that does not exist.

function webhookView(row: WebhookSubscription): WebhookView {
  return {
    id: row.id,
    tenant: row.tenant,
    url: row.url,
    events: row.events as WebhookEventType[],
    headerNames: Object.keys((row.headers ?? {}) as Record<string, string>),
    enabled: row.enabled,
    maxAttempts: row.maxAttempts,
    timeoutMs: row.timeoutMs,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    deletedAt: row.deletedAt?.toISOString() ?? null,
  };
}

function deliveryView(row: WebhookDelivery & { log: WebhookAttempt[] }): WebhookDeliveryView {
  return {
    id: row.id,
    eventId: row.eventId,
    eventType: row.eventType as WebhookEventType,
    intentId: row.intentId,
    redelivery: row.redelivery,
    status: row.status,
    attempts: row.log.map((a) => ({
      attempt: a.attempt,
      statusCode: a.statusCode,
      error: a.error,
      durationMs: a.durationMs,
      at: a.startedAt.toISOString(),
    })),
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
    deadAt: row.deadAt?.toISOString() ?? null,
  };
}

const withLog = { log: { orderBy: { attempt: 'asc' } } } as const;

/** The tenant a subscription goes to: the one named (which the caller must administer), or the caller's only one. */
function subscriptionTenant(admin: Principal, named: string | undefined): string {
  const tenant = named ?? (admin.tenants.length === 1 ? admin.tenants[0]! : undefined);
  if (!tenant) {
    throw new Problem(400, 'Invalid request', 'body.tenant is required: you administer several tenants', [
      { field: 'body.tenant', reason: `is required: one of ${admin.tenants.join(', ')}` },
    ]);
  }
  if (!admin.tenants.includes(tenant)) {
    throw new Problem(403, 'Forbidden', `you are not an admin of tenant ${tenant}`, [
      { field: 'body.tenant', reason: 'is not one of your tenants' },
    ]);
  }
  return tenant;
}

export function webhookRoutes(deps: ApiDependencies): Router {
  const router = Router();
  const policy = deps.config.webhooks;
  // Tenant administration: the admin role (the same permission as managing API keys).
  const admin = (res: Parameters<typeof authorize>[0]) => authorize(res, 'webhooks:manage');

  /** A subscription of the caller's tenants (deleted ones too: their delivery log stays readable). */
  async function findSubscription(principal: Principal, id: string): Promise<WebhookSubscription> {
    const row = await deps.db.webhookSubscription.findFirst({ where: { id, ...tenantScope(principal) } });
    if (!row) throw notFound(`webhook ${id}`);
    return row;
  }

  router.post('/webhooks', async (req, res) => {
    const principal = admin(res);
    const body = parse(CreateWebhookRequest, req.body ?? {}, 'body');
    const tenant = subscriptionTenant(principal, body.tenant);
    await checkTarget(body.url, policy);
    const secret = body.secret ?? generateWebhookSecret();
    const row = await deps.db.webhookSubscription.create({
      data: {
        id: randomUUID(),
        tenant,
        url: body.url,
        events: body.events,
        secret,
        headers: body.headers ?? {},
        enabled: body.enabled,
        maxAttempts: body.maxAttempts ?? policy.maxAttempts,
        timeoutMs: body.timeoutMs ?? policy.timeoutMs,
        createdBy: principal.subject,
      },
    });
    await appendAuditEvent(deps.db, {
      eventKey: `webhook-created:${row.id}`,
      tenant,
      type: 'webhook.created',
      actor: principal.subject,
      data: { webhookId: row.id, host: new URL(row.url).host, events: row.events, enabled: row.enabled },
    });
    const view: CreatedWebhookView = { ...webhookView(row), secret };
    res.status(201).location(`/api/v1/webhooks/${row.id}`).json(view);
  });

  router.get('/webhooks', async (_req, res) => {
    const principal = admin(res);
    const rows = await deps.db.webhookSubscription.findMany({
      where: { ...tenantScope(principal), deletedAt: null },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    });
    const list: WebhookList = { items: rows.map(webhookView) };
    res.json(list);
  });

  router.get('/webhooks/:id', async (req, res) => {
    const principal = admin(res);
    const { id } = parse(WebhookPath, req.params, 'path');
    res.json(webhookView(await findSubscription(principal, id)));
  });

  router.delete('/webhooks/:id', async (req, res) => {
    const principal = admin(res);
    const { id } = parse(WebhookPath, req.params, 'path');
    const { count } = await deps.db.webhookSubscription.updateMany({
      where: { id, ...tenantScope(principal), deletedAt: null },
      data: { enabled: false, deletedAt: new Date() },
    });
    if (count === 0) throw notFound(`webhook ${id}`);
    const row = await findSubscription(principal, id);
    await appendAuditEvent(deps.db, {
      eventKey: `webhook-deleted:${row.id}`,
      tenant: row.tenant,
      type: 'webhook.deleted',
      actor: principal.subject,
      data: { webhookId: row.id, host: new URL(row.url).host },
    });
    res.json(webhookView(row));
  });

  /** The delivery log, newest first, each delivery with its attempts. */
  router.get('/webhooks/:id/deliveries', async (req, res) => {
    const principal = admin(res);
    const { id } = parse(WebhookPath, req.params, 'path');
    const query = parse(ListDeliveriesQuery, req.query, 'query');
    const subscription = await findSubscription(principal, id);
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await deps.db.webhookDelivery.findMany({
      where: {
        subscriptionId: subscription.id,
        ...(query.status && { status: query.status }),
        ...(after && {
          OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
        }),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
      include: withLog,
    });
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    const page: WebhookDeliveryPage = {
      items: items.map(deliveryView),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
    };
    res.json(page);
  });

  /** Sends the event again, as a new delivery with the same event id (receivers deduplicate by it). */
  router.post('/webhooks/:id/deliveries/:delivery/redeliver', async (req, res) => {
    const principal = admin(res);
    const { id, delivery: deliveryId } = parse(WebhookDeliveryPath, req.params, 'path');
    const subscription = await findSubscription(principal, id);
    const original = await deps.db.webhookDelivery.findFirst({ where: { id: deliveryId, subscriptionId: id } });
    if (!original) throw notFound(`delivery ${deliveryId} of webhook ${id}`);
    if (subscription.deletedAt) {
      throw new Problem(409, 'Webhook deleted', `webhook ${id} was deleted: nothing is sent to it`);
    }
    const redelivery = await redeliver(original);
    const toStart: DeliveryToStart = {
      id: redelivery.id,
      eventType: redelivery.eventType,
      url: subscription.url,
      maxAttempts: subscription.maxAttempts,
      timeoutMs: subscription.timeoutMs,
    };
    try {
      await startWebhookDeliveries(deps.temporal, deps.config.temporal.taskQueue, [toStart], policy.retry);
    } catch (error) {
      // Nothing was sent: withdraw the row, so the log shows no delivery that never runs.
      await deps.db.webhookDelivery.deleteMany({ where: { id: redelivery.id, attempts: 0 } });
      throw new Problem(503, 'Orchestrator unavailable', `could not start the delivery: ${(error as Error).message}`);
    }
    await appendAuditEvent(deps.db, {
      eventKey: `webhook-redelivered:${redelivery.id}`,
      tenant: subscription.tenant,
      type: 'webhook.redelivered',
      actor: principal.subject,
      data: { webhookId: id, deliveryId: original.id, redeliveryId: redelivery.id, eventId: original.eventId },
    });
    const created = await deps.db.webhookDelivery.findUniqueOrThrow({ where: { id: redelivery.id }, include: withLog });
    res.status(202).json(deliveryView(created));
  });

  /** Two redeliveries of one event at once number theirs the same: the loser takes the next number. */
  async function redeliver(original: WebhookDelivery): Promise<WebhookDelivery> {
    for (let tries = 1; ; tries++) {
      try {
        return await createRedelivery(deps.db, original);
      } catch (error) {
        const clash = error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
        if (!clash || tries >= 5) throw error;
      }
    }
  }

  return router;
}

/** The URL's form and target, as the deployment's policy allows them (checked again at every delivery). */
async function checkTarget(raw: string, policy: ApiDependencies['config']['webhooks']): Promise<void> {
  try {
    await resolveWebhookTarget(parseWebhookUrl(raw, policy), policy);
  } catch (error) {
    if (!(error instanceof WebhookTargetRefused || error instanceof WebhookTargetUnresolved)) throw error;
    const reason = error.message;
    throw new Problem(400, 'Invalid request', `body.url ${reason}`, [{ field: 'body.url', reason }]);
  }
}

function encodeCursor(row: WebhookDelivery): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id)) {
      throw new Error('bad cursor');
    }
    return { createdAt: date, id };
  } catch {
    throw new Problem(400, 'Invalid request', 'query.cursor is not a cursor returned by a previous page', [
      { field: 'query.cursor', reason: 'is not a cursor returned by a previous page' },
    ]);
  }
}
