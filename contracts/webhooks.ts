import { z } from 'zod';
import { TenantName } from './identity';

// Durable webhooks (docs/webhooks.md): what a tenant admin subscribes to, what the API answers, and the
// delivery workflow's input. Every delivery is signed; receivers deduplicate by the event id.

export const webhookEventTypes = [
  'intent.submitted',
  'plan.ready',
  'gate.opened',
  'gate.reminder',
  'gate.escalated',
  'gate.decided',
  'intent.completed',
  'intent.failed',
  'capsule.ready',
] as const;
export const WebhookEventType = z.enum(webhookEventTypes, { error: `must be one of ${webhookEventTypes.join(', ')}` });
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** The headers a delivery sets itself: a subscription cannot override them. */
export const WEBHOOK_HEADERS = {
  eventId: 'x-qlp-event-id',
  eventType: 'x-qlp-event-type',
  timestamp: 'x-qlp-timestamp',
  signature: 'x-qlp-signature',
} as const;

/** Hop-by-hop headers, and those the HTTP client or the signature owns. */
const RESERVED_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'content-type',
  'expect',
]);

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
const HEADER_VALUE = /^[\x20-\x7e]{0,1000}$/;

/** Custom headers sent with every delivery, e.g. an `Authorization` the receiver expects. */
export const WebhookHeaders = z
  .record(
    z
      .string()
      .regex(HEADER_NAME, 'must be an HTTP header name (1–100 token characters)')
      .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), 'is set by the delivery itself')
      .refine((name) => !name.toLowerCase().startsWith('x-qlp-'), 'x-qlp-* headers are set by the delivery itself'),
    z.string({ error: 'must be a string' }).regex(HEADER_VALUE, 'must be at most 1000 printable ASCII characters'),
    {
      // A refused name reports why (its own message), not the record's.
      error: (issue) =>
        issue.code === 'invalid_key'
          ? (issue.issues[0]?.message ?? 'must be an HTTP header name')
          : 'must be an object of header names to values',
    },
  )
  .refine((headers) => Object.keys(headers).length <= 20, 'must hold at most 20 headers')
  .refine(
    (headers) => new Set(Object.keys(headers).map((name) => name.toLowerCase())).size === Object.keys(headers).length,
    'must not name a header twice (names are case-insensitive)',
  );

/** `POST /webhooks`. The URL's scheme and target are checked against the deployment's policy by the API. */
export const CreateWebhookRequest = z.strictObject({
  url: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .max(2000, 'must be at most 2000 characters'),
  events: z
    .array(WebhookEventType, { error: 'must be a list of event types' })
    .min(1, 'must name at least one event type')
    .max(webhookEventTypes.length)
    .refine((events) => new Set(events).size === events.length, 'must not repeat an event type'),
  /** Given, or generated and returned once. */
  secret: z
    .string({ error: 'must be a string' })
    .regex(/^[\x21-\x7e]{16,200}$/, 'must be 16–200 printable ASCII characters without spaces')
    .optional(),
  headers: WebhookHeaders.optional(),
  enabled: z.boolean({ error: 'must be true or false' }).default(true),
  /** Attempts before the delivery is dead-lettered (default: WEBHOOK_MAX_ATTEMPTS). */
  maxAttempts: z.number({ error: 'must be a number' }).int('must be a whole number').min(1).max(25).optional(),
  /** Per-attempt timeout (default: WEBHOOK_TIMEOUT_MS). */
  timeoutMs: z.number({ error: 'must be a number' }).int('must be a whole number').min(500).max(60_000).optional(),
  /** Optional when the caller is an admin of exactly one tenant. */
  tenant: TenantName.optional(),
});
export type CreateWebhookRequest = z.infer<typeof CreateWebhookRequest>;

export const WebhookPath = z.object({ id: z.uuid('must be a webhook id (UUID)') });
export const WebhookDeliveryPath = WebhookPath.extend({ delivery: z.uuid('must be a delivery id (UUID)') });

export const webhookDeliveryStatuses = ['PENDING', 'DELIVERED', 'DEAD'] as const;
export const WebhookDeliveryStatus = z.enum(webhookDeliveryStatuses, {
  error: `must be one of ${webhookDeliveryStatuses.join(', ')}`,
});

export const ListDeliveriesQuery = z.strictObject({
  limit: z.coerce.number({ error: 'must be a number' }).int().min(1).max(100).default(20),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, 'must be a cursor returned by a previous page')
    .optional(),
  status: WebhookDeliveryStatus.optional(),
});
export type ListDeliveriesQuery = z.infer<typeof ListDeliveriesQuery>;

const timestamp = z.iso.datetime();

/** A subscription as the API shows it: never its secret, and only the names of its headers. */
export const WebhookView = z.object({
  id: z.uuid(),
  tenant: z.string(),
  url: z.string(),
  events: z.array(WebhookEventType),
  headerNames: z.array(z.string()),
  enabled: z.boolean(),
  maxAttempts: z.number().int(),
  timeoutMs: z.number().int(),
  createdBy: z.string(),
  createdAt: timestamp,
  deletedAt: timestamp.nullable(),
});
export type WebhookView = z.infer<typeof WebhookView>;

/** A new subscription: its signing secret, shown this once. */
export const CreatedWebhookView = WebhookView.extend({
  secret: z.string().describe('signs every delivery (x-qlp-signature); shown only once'),
});
export type CreatedWebhookView = z.infer<typeof CreatedWebhookView>;

export const WebhookList = z.object({ items: z.array(WebhookView) });
export type WebhookList = z.infer<typeof WebhookList>;

export const WebhookAttemptView = z.object({
  attempt: z.number().int(),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().int(),
  at: timestamp,
});

export const WebhookDeliveryView = z.object({
  id: z.uuid(),
  eventId: z.string(),
  eventType: WebhookEventType,
  intentId: z.uuid(),
  /** 0 for the first delivery of the event, n for its nth redelivery. */
  redelivery: z.number().int(),
  status: WebhookDeliveryStatus,
  attempts: z.array(WebhookAttemptView),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: timestamp,
  deliveredAt: timestamp.nullable(),
  deadAt: timestamp.nullable(),
});
export type WebhookDeliveryView = z.infer<typeof WebhookDeliveryView>;

export const WebhookDeliveryPage = z.object({ items: z.array(WebhookDeliveryView), nextCursor: z.string().nullable() });
export type WebhookDeliveryPage = z.infer<typeof WebhookDeliveryPage>;

/** What a receiver gets: the JSON body of every delivery. `id` is the same for every delivery of the event. */
export interface WebhookEnvelope {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  tenant: string;
  intentId: string;
  data: Record<string, unknown>;
}

/** How a delivery retries: Temporal's activity retry policy, from the subscription and the deployment. */
export interface WebhookDeliveryInput {
  deliveryId: string;
  maxAttempts: number;
  initialIntervalMs: number;
  maximumIntervalMs: number;
  /** Per attempt; the activity's own timeout adds room for DNS and the database around it. */
  timeoutMs: number;
}

/** Failures the delivery workflow does not retry: the receiver refused the event, or the target can never be reached. */
export const webhookFinalFailures = ['WebhookRejected', 'WebhookTargetRefused', 'WebhookGone'] as const;
export type WebhookFinalFailure = (typeof webhookFinalFailures)[number];

export type WebhookDeliveryOutcome = { status: 'DELIVERED' } | { status: 'DEAD' };

export const webhookDeliveryWorkflowId = (deliveryId: string) => `webhook-${deliveryId}`;
