import { z } from 'zod';
import type { Section } from './setting';

// Durable webhooks (docs/webhooks.md): where deliveries may go, and how they retry. The API checks a
// subscription's URL against these at creation; the worker checks it again at every attempt.

const webhooks: Section = { title: 'Webhooks' };

const boolean = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((value) => value === 'true');

const UNITS = { ms: 1, s: 1_000, m: 60_000 } as const;
/** A short duration (500ms, 1s, 1m) in milliseconds. */
const interval = z
  .string()
  .regex(/^\d+(ms|s|m)$/, 'must be a duration such as 200ms, 1s or 1m')
  .transform((value) => {
    const [, amount, unit] = /^(\d+)(ms|s|m)$/.exec(value)!;
    return Number(amount) * UNITS[unit as keyof typeof UNITS];
  })
  .refine((ms) => ms >= 10 && ms <= 3_600_000, 'must be between 10ms and 60m');

export const webhookEnvShape = {
  WEBHOOK_ALLOW_PRIVATE_TARGETS: boolean.prefault('false').meta({
    section: webhooks,
    doc: [
      'Deliver to loopback, private (RFC 1918), link-local, unique-local, CGNAT and other internal addresses.',
      'Off: a URL whose host resolves to one is refused at creation and at every attempt (SSRF). Tests turn it on.',
    ],
  }),
  WEBHOOK_ALLOW_HTTP: boolean.prefault('false').meta({
    section: webhooks,
    doc: 'Accept http:// webhook URLs (development and tests). Off: https only.',
  }),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(25).prefault('8').meta({
    section: webhooks,
    doc: 'Attempts per delivery, for subscriptions that do not set maxAttempts; then the delivery is dead-lettered.',
  }),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(500).max(60_000).prefault('10000').meta({
    section: webhooks,
    doc: 'Per-attempt timeout, for subscriptions that do not set timeoutMs.',
  }),
  WEBHOOK_RETRY_INITIAL_INTERVAL: interval.prefault('1s').meta({
    section: webhooks,
    doc: 'Wait before the first retry; each next wait doubles, up to WEBHOOK_RETRY_MAX_INTERVAL.',
  }),
  WEBHOOK_RETRY_MAX_INTERVAL: interval.prefault('1m').meta({ section: webhooks }),
};

type WebhookEnv = z.output<z.ZodObject<typeof webhookEnvShape>>;

export interface WebhookConfig {
  /** Deliver to internal addresses (loopback, RFC 1918, link-local …): tests and trusted networks only. */
  allowPrivateTargets: boolean;
  allowHttp: boolean;
  /** Defaults for new subscriptions. */
  maxAttempts: number;
  timeoutMs: number;
  retry: { initialIntervalMs: number; maximumIntervalMs: number };
}

/** The strict defaults: https only, public targets only. Workers given no webhook config use these. */
export const DEFAULT_WEBHOOK_CONFIG: WebhookConfig = {
  allowPrivateTargets: false,
  allowHttp: false,
  maxAttempts: 8,
  timeoutMs: 10_000,
  retry: { initialIntervalMs: 1_000, maximumIntervalMs: 60_000 },
};

export function toWebhookConfig(e: WebhookEnv): WebhookConfig {
  return {
    allowPrivateTargets: e.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    allowHttp: e.WEBHOOK_ALLOW_HTTP,
    maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
    timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    retry: {
      initialIntervalMs: e.WEBHOOK_RETRY_INITIAL_INTERVAL,
      maximumIntervalMs: Math.max(e.WEBHOOK_RETRY_MAX_INTERVAL, e.WEBHOOK_RETRY_INITIAL_INTERVAL),
    },
  };
}
