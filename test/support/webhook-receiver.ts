import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// A real HTTP receiver for webhook tests, written the way a customer would write one (independently of
// adapters/webhooks): it checks each request's signature and timestamp, answers as each endpoint is
// told to, and deduplicates accepted events by id, counting duplicates instead of hiding them.

export interface ReceivedRequest {
  endpoint: string;
  eventId: string;
  type: string;
  body: any;
  signatureValid: boolean;
  /** What the receiver answered. */
  status: number;
}

/** How an endpoint answers the nth request (1-based) carrying an event id. */
export type Behaviour = (nth: number) => number;

export const failFirst =
  (failures: number, status = 500): Behaviour =>
  (nth) =>
    nth <= failures ? status : 204;
export const always =
  (status: number): Behaviour =>
  () =>
    status;

interface Endpoint {
  secret: string;
  behaviour: Behaviour;
  /** Requests per event id so far. */
  seen: Map<string, number>;
  /** Accepted (2xx) events by id: the deduplicated stream. */
  accepted: Map<string, any>;
  /** Events accepted again after they already were (the receiver's dedupe dropped them). */
  duplicates: string[];
}

export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly listeners = new Set<(request: ReceivedRequest) => void>();
  private server!: Server;
  private base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const status = this.handle(req.url ?? '', req.headers, raw);
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** A new endpoint's URL; its secret is set once the API has created the subscription. */
  endpoint(name: string, behaviour: Behaviour): string {
    this.endpoints.set(name, { secret: '', behaviour, seen: new Map(), accepted: new Map(), duplicates: [] });
    return `${this.base}/hooks/${name}`;
  }

  setSecret(name: string, secret: string): void {
    this.endpoints.get(name)!.secret = secret;
  }

  accepted(name: string): Map<string, any> {
    return this.endpoints.get(name)!.accepted;
  }

  duplicates(name: string): string[] {
    return this.endpoints.get(name)!.duplicates;
  }

  requestsTo(name: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.endpoint === name);
  }

  /** Calls `listener` with every request from now on (after it was answered). */
  onRequest(listener: (request: ReceivedRequest) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private handle(url: string, headers: Record<string, string | string[] | undefined>, raw: string): number {
    const name = /^\/hooks\/([^/?]+)/.exec(url)?.[1] ?? '';
    const endpoint = this.endpoints.get(name);
    if (!endpoint) return 404;
    const header = (key: string) => (typeof headers[key] === 'string' ? headers[key] : undefined);
    const signatureValid = verify(endpoint.secret, header('x-qlp-timestamp'), header('x-qlp-signature'), raw);
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const eventId = header('x-qlp-event-id') ?? '';
    const nth = (endpoint.seen.get(eventId) ?? 0) + 1;
    endpoint.seen.set(eventId, nth);
    const status = !signatureValid || body?.id !== eventId ? 401 : endpoint.behaviour(nth);
    if (status >= 200 && status < 300) {
      if (endpoint.accepted.has(eventId)) endpoint.duplicates.push(eventId);
      else endpoint.accepted.set(eventId, body);
    }
    const request = { endpoint: name, eventId, type: header('x-qlp-event-type') ?? '', body, signatureValid, status };
    this.requests.push(request);
    for (const listener of this.listeners) listener(request);
    return status;
  }
}

/** The documented check: v1=hex(hmac-sha256(secret, "<timestamp>.<raw body>")), timestamp within 5 minutes. */
function verify(secret: string, timestamp: string | undefined, signature: string | undefined, raw: string): boolean {
  if (!secret || !timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${timestamp}.${raw}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
