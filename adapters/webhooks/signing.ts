import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// How deliveries are signed (docs/webhooks.md): `x-qlp-signature: v1=<hex hmac-sha256(secret, "<timestamp>.<body>")>`,
// with the unix-seconds timestamp in `x-qlp-timestamp`, so a receiver can refuse old (replayed) requests.

/** A new subscription's secret, when the admin gives none: 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** The `x-qlp-signature` value for a body sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver checks: the signature matches (constant time) and the timestamp is within
 * `toleranceSeconds` of `now` (unix seconds). Exported for receivers written in TypeScript.
 */
export function verifyWebhook(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  { now = Math.floor(Date.now() / 1000), toleranceSeconds = 300 } = {},
): boolean {
  const timestamp = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(timestamp) || Math.abs(now - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The event id of a webhook event derived from an audit event: the same for a retried write, and for every subscription. */
export function webhookEventId(auditEventKey: string, eventType: string): string {
  return `evt_${createHash('sha256').update(`${auditEventKey}\n${eventType}`).digest('hex').slice(0, 32)}`;
}
