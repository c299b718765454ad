import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { WEBHOOK_HEADERS, type WebhookEnvelope } from '../../contracts/webhooks';
import { signWebhook } from './signing';
import { parseWebhookUrl, resolveWebhookTarget, type TargetPolicy } from './ssrf';

// One HTTP attempt of a delivery: checked target, signed body, no redirects, a hard timeout.

export interface WebhookTarget {
  url: string;
  secret: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/** What one attempt got: a status code, or the error that stopped it. Never the response body. */
export interface AttemptResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** How much of a response is read before the connection is dropped: receivers should answer small. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Sends the event to the target (the SSRF checks throw WebhookTargetRefused or WebhookTargetUnresolved
 * before anything is sent). A 3xx is a status like any other: redirects are not followed.
 */
export async function sendWebhook(
  target: WebhookTarget,
  event: WebhookEnvelope,
  policy: TargetPolicy,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<AttemptResult> {
  const url = parseWebhookUrl(target.url, policy);
  const started = performance.now();
  const resolved = await resolveWebhookTarget(url, policy);
  const body = JSON.stringify(event);
  const headers = {
    ...target.headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'QuantumLayer-Webhooks/1',
    [WEBHOOK_HEADERS.eventId]: event.id,
    [WEBHOOK_HEADERS.eventType]: event.type,
    [WEBHOOK_HEADERS.timestamp]: String(nowSeconds),
    [WEBHOOK_HEADERS.signature]: signWebhook(target.secret, nowSeconds, body),
  };
  // Connect to the address checked above, whatever the resolver would say now.
  const pinned: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [resolved]);
    } else callback(null, resolved.address, resolved.family);
  };
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise<AttemptResult>((resolve) => {
    const done = (statusCode: number | null, error: string | null) =>
      resolve({ statusCode, error, durationMs: elapsed() });
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      headers,
      lookup: pinned,
      // The certificate is still checked against the URL's host name: only the lookup is pinned.
      agent: false,
    });
    const timer = setTimeout(() => {
      request.destroy(new Error(`no response within ${target.timeoutMs} ms`));
    }, target.timeoutMs);
    request.on('response', (response) => {
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) response.destroy();
      });
      const finish = () => {
        clearTimeout(timer);
        const code = response.statusCode ?? 0;
        done(
          code,
          code >= 200 && code < 300
            ? null
            : `HTTP ${code}${response.statusMessage ? ` ${response.statusMessage}` : ''}`,
        );
      };
      response.on('end', finish);
      response.on('close', finish);
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      done(null, error.code ? `${error.code}: ${error.message}` : error.message);
    });
    request.end(body);
  });
}
