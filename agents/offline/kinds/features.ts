import type { GeneratedFile } from '../../generated-file';
import type { CatalogueKind } from '../catalogue';
import { header } from './header';

// Optional catalogue features, added when the intent asks for them (catalogue.ts CATALOGUE_FEATURES):
// each is a small module of its own, wired into the kind's code, with tests that exercise it.

/** src/auth.ts: bearer API tokens, compared in constant time; who a token belongs to is the principal. */
export function authModule(kind: CatalogueKind): GeneratedFile {
  const content = `${header(kind)}import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Who made a request: the name its API token was issued to. */
export interface Principal {
  id: string;
}

/** API token → the name it was issued to. */
export type TokenTable = ReadonlyMap<string, string>;

/** Parses \`name:token,name2:token2\` (the API_TOKENS variable); entries without both parts are ignored. */
export function tokensFrom(value: string): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const entry of value.split(',')) {
    const at = entry.indexOf(':');
    const name = entry.slice(0, at).trim();
    const token = entry.slice(at + 1).trim();
    if (at > 0 && name && token) tokens.set(token, name);
  }
  return tokens;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * The principal of a request carrying \`Authorization: Bearer <token>\` with a known token; undefined for
 * anything else (no header, another scheme, an unknown token). Tokens are compared in constant time.
 */
export function authenticate(req: IncomingMessage, tokens: TokenTable): Principal | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]{8,512})$/.exec(req.headers.authorization ?? '');
  if (!match) return undefined;
  const presented = digest(match[1]!);
  for (const [token, id] of tokens) {
    if (timingSafeEqual(digest(token), presented)) return { id };
  }
  return undefined;
}
`;
  return { path: 'src/auth.ts', content, language: 'typescript' };
}

/** src/audit.ts: an append-only audit trail of who changed what, with what outcome, and when. */
export function auditModule(kind: CatalogueKind): GeneratedFile {
  const content = `${header(kind)}/** One audited change: who did what to which record, with what outcome, and when. */
export interface AuditEvent {
  actor: string;
  action: 'create' | 'update' | 'delete';
  target: string;
  outcome: number;
  at: string;
}

/** Append-only: events are frozen when recorded and can only be added, never changed or removed. */
export class AuditLog {
  private readonly events: AuditEvent[] = [];

  constructor(
    /** Where each event also goes as it is recorded (the entry point writes JSON lines to stdout). */
    private readonly sink?: (event: AuditEvent) => void,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  record(change: Omit<AuditEvent, 'at'>): AuditEvent {
    const event: AuditEvent = Object.freeze({
      actor: change.actor,
      action: change.action,
      target: change.target,
      outcome: change.outcome,
      at: this.clock().toISOString(),
    });
    this.events.push(event);
    this.sink?.(event);
    return event;
  }

  /** Every event so far, oldest first (a copy: the log itself cannot be edited through it). */
  list(): AuditEvent[] {
    return [...this.events];
  }
}
`;
  return { path: 'src/audit.ts', content, language: 'typescript' };
}

/** src/webhook.ts: HMAC-SHA256 signatures over the raw body, verified in constant time before anything is queued. */
export function webhookModule(kind: CatalogueKind): GeneratedFile {
  const content = `${header(kind)}import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header a sender puts its signature in: \`sha256=<hex HMAC-SHA256 of the raw body>\`. */
export const SIGNATURE_HEADER = 'x-signature-256';

/** The signature of a body under the shared secret, as a sender computes it. */
export function sign(body: string, secret: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

/** Whether \`signature\` is the body's HMAC under the secret; compared in constant time, refused without a secret. */
export function verifySignature(body: string, signature: string | undefined, secret: string): boolean {
  if (!secret || !signature) return false;
  const expected = Buffer.from(sign(body, secret), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface Delivery {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface WebhookAnswer {
  status: 202 | 400 | 401;
  error?: string;
}

/**
 * One webhook delivery: refused with 401 unless its signature verifies, 400 unless its body is JSON;
 * otherwise the event is queued (202) and the worker processes it, with retries.
 */
export function receiveWebhook(delivery: Delivery, secret: string, enqueue: (event: unknown) => void): WebhookAnswer {
  const header = delivery.headers[SIGNATURE_HEADER];
  const signature = Array.isArray(header) ? header[0] : header;
  if (!verifySignature(delivery.body, signature, secret)) return { status: 401, error: 'missing or invalid signature' };
  let event: unknown;
  try {
    event = JSON.parse(delivery.body) as unknown;
  } catch {
    return { status: 400, error: 'the body is not JSON' };
  }
  enqueue(event);
  return { status: 202 };
}
`;
  return { path: 'src/webhook.ts', content, language: 'typescript' };
}

/** test/webhook.test.ts: valid signatures accepted and queued; missing, wrong and tampered ones refused. */
export function webhookTests(kind: CatalogueKind, sample: Record<string, unknown>): GeneratedFile {
  const content = `${header(kind)}import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { receiveWebhook, sign, SIGNATURE_HEADER, verifySignature } from '../src/webhook';

const secret = randomBytes(32).toString('hex');
const body = JSON.stringify(${JSON.stringify(sample)});

test('a delivery with a valid HMAC signature is accepted and queued', () => {
  const queued: unknown[] = [];
  const answer = receiveWebhook({ headers: { [SIGNATURE_HEADER]: sign(body, secret) }, body }, secret, (e) => queued.push(e));
  assert.deepEqual(answer, { status: 202 });
  assert.deepEqual(queued, [JSON.parse(body)]);
});

test('a delivery with a missing or wrong signature is refused with 401 and nothing is queued', () => {
  const queued: unknown[] = [];
  const enqueue = (e: unknown) => queued.push(e);
  assert.equal(receiveWebhook({ headers: {}, body }, secret, enqueue).status, 401);
  const other = randomBytes(32).toString('hex');
  assert.equal(receiveWebhook({ headers: { [SIGNATURE_HEADER]: sign(body, other) }, body }, secret, enqueue).status, 401);
  assert.equal(receiveWebhook({ headers: { [SIGNATURE_HEADER]: 'sha256=00' }, body }, secret, enqueue).status, 401);
  assert.deepEqual(queued, []);
});

test('a tampered body fails HMAC signature verification', () => {
  const signature = sign(body, secret);
  assert.equal(verifySignature(body, signature, secret), true);
  assert.equal(verifySignature(body + ' ', signature, secret), false);
  assert.equal(verifySignature(body, signature, ''), false);
});

test('a signed body that is not JSON is refused with 400', () => {
  const text = 'not json';
  const answer = receiveWebhook({ headers: { [SIGNATURE_HEADER]: sign(text, secret) }, body: text }, secret, () => {
    throw new Error('must not be queued');
  });
  assert.equal(answer.status, 400);
});
`;
  return { path: 'test/webhook.test.ts', content, language: 'typescript' };
}

/** src/field-crypto.ts: AES-256-GCM, a random IV per value, authenticated (a changed value does not decrypt). */
export function fieldCryptoModule(kind: CatalogueKind): GeneratedFile {
  const content = `${header(kind)}import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';

/** Seals values with AES-256-GCM under one 32-byte key: \`v1.<iv>.<tag>.<ciphertext>\`, base64url parts. */
export class FieldCipher {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new RangeError('the field encryption key must be 32 bytes (FIELD_ENCRYPTION_KEY, base64)');
  }

  /** The key from FIELD_ENCRYPTION_KEY (base64 of 32 random bytes, e.g. \`openssl rand -base64 32\`). */
  static fromBase64(value: string): FieldCipher {
    return new FieldCipher(Buffer.from(value, 'base64'));
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv(ALGORITHM, this.key, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
  }

  /** The plaintext of a sealed value; throws when it was changed or sealed under another key. */
  open(sealed: string): string {
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed value');
    const decipher = createDecipheriv(ALGORITHM, this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }
}
`;
  return { path: 'src/field-crypto.ts', content, language: 'typescript' };
}

/** The store of an encryption-at-rest service: ids in clear (to find records), every field sealed. */
export function encryptedStoreModule(
  kind: CatalogueKind,
  names: { type: string; input: string; store: string; module: string; storeModule: string; pluralLabel: string },
): GeneratedFile {
  const n = names;
  const content = `${header(kind)}import type { FieldCipher } from './field-crypto';
import type { ${n.input}, ${n.type} } from './${n.module}';

/** A record as kept: its id, and every field sealed together (AES-256-GCM). */
export interface StoredRecord {
  id: string;
  sealed: string;
}

/** ${n.pluralLabel} in memory, encrypted at rest: fields are sealed before they are stored and opened on read. */
export class ${n.store} {
  private readonly items = new Map<string, StoredRecord>();
  private nextId = 1;

  constructor(private readonly cipher: FieldCipher) {}

  create(input: ${n.input}): ${n.type} {
    const item: ${n.type} = { ...input, id: String(this.nextId++) };
    this.items.set(item.id, this.seal(item));
    return { ...item };
  }

  get(id: string): ${n.type} | undefined {
    const stored = this.items.get(id);
    return stored && this.open(stored);
  }

  list(): ${n.type}[] {
    return [...this.items.values()].map((stored) => this.open(stored));
  }

  update(id: string, patch: Partial<${n.input}>): ${n.type} | undefined {
    const current = this.get(id);
    if (!current) return undefined;
    const updated: ${n.type} = { ...current, ...patch, id };
    this.items.set(id, this.seal(updated));
    return { ...updated };
  }

  remove(id: string): boolean {
    return this.items.delete(id);
  }

  get size(): number {
    return this.items.size;
  }

  /** The record as stored, for audits and tests: no field in clear. */
  storedForm(id: string): StoredRecord | undefined {
    const stored = this.items.get(id);
    return stored && { ...stored };
  }

  private seal(item: ${n.type}): StoredRecord {
    const { id, ...fields } = item;
    return { id, sealed: this.cipher.seal(JSON.stringify(fields)) };
  }

  private open(stored: StoredRecord): ${n.type} {
    return { ...(JSON.parse(this.cipher.open(stored.sealed)) as ${n.input}), id: stored.id };
  }
}
`;
  return { path: `src/${n.storeModule}.ts`, content, language: 'typescript' };
}
