import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Principal, Role } from '../../contracts/identity';
import type { ApiKey } from '../../generated/prisma/client';
import type { Database } from '../db/client';
import { AuthenticationError } from './errors';

// API keys look like `qlp_<prefix>_<secret>`. The prefix is public (it finds the row and names the key in
// lists and the audit trail); the secret is 32 random bytes, shown once and stored only as its sha256 —
// a fast hash is enough for a random secret of that size, and a slow one would make each request slow.

const KEY_PATTERN = /^qlp_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
/** lastUsedAt is written at most this often per key, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

const digest = (secret: string) => createHash('sha256').update(secret).digest();

export interface NewApiKey {
  name: string;
  tenant: string;
  roles: Role[];
  createdBy: string;
  expiresAt?: Date;
}

export interface CreatedApiKey {
  /** The whole key: shown once, never stored. */
  key: string;
  record: ApiKey;
}

export async function createApiKey(db: Database, input: NewApiKey): Promise<CreatedApiKey> {
  const prefix = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const record = await db.apiKey.create({
    data: {
      id: randomUUID(),
      prefix,
      secretHash: digest(secret).toString('hex'),
      name: input.name,
      tenant: input.tenant,
      roles: [...new Set(input.roles)],
      createdBy: input.createdBy,
      expiresAt: input.expiresAt ?? null,
    },
  });
  return { key: `qlp_${prefix}_${secret}`, record };
}

/** Does this bearer credential look like an API key (rather than a JWT)? */
export const isApiKey = (credential: string) => credential.startsWith('qlp_');

/** The principal of a valid, unexpired, unrevoked key; otherwise an AuthenticationError saying which. */
export async function verifyApiKey(db: Database, credential: string, now = new Date()): Promise<Principal> {
  const match = KEY_PATTERN.exec(credential);
  if (!match) throw new AuthenticationError('malformed API key', 'malformed');
  const [, prefix, secret] = match as unknown as [string, string, string];
  const row = await db.apiKey.findUnique({ where: { prefix } });
  // Compare even when no row matched, so timing does not tell which prefixes exist.
  const expected = row ? Buffer.from(row.secretHash, 'hex') : digest('');
  const matches = timingSafeEqual(expected, digest(secret)) && row !== null;
  if (!matches || !row) throw new AuthenticationError('unknown API key', 'unknown-key');
  if (row.revokedAt) throw new AuthenticationError(`API key ${prefix} was revoked`, 'revoked');
  if (row.expiresAt && row.expiresAt <= now) throw new AuthenticationError(`API key ${prefix} has expired`, 'expired');
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: now } });
  }
  return Principal.parse({
    subject: `key:${prefix}`,
    name: row.name,
    tenants: [row.tenant],
    roles: row.roles.filter((role) => Role.safeParse(role).success),
    method: 'api-key',
  });
}

/** Revokes a key of one of `tenants`; false when there is none (unknown, or another tenant's). */
export async function revokeApiKey(
  db: Database,
  id: string,
  tenants: string[],
  now = new Date(),
): Promise<ApiKey | null> {
  const row = await db.apiKey.findFirst({ where: { id, tenant: { in: tenants } } });
  if (!row) return null;
  if (row.revokedAt) return row;
  return db.apiKey.update({ where: { id }, data: { revokedAt: now } });
}

export function listApiKeys(db: Database, tenants: string[]): Promise<ApiKey[]> {
  return db.apiKey.findMany({ where: { tenant: { in: tenants } }, orderBy: { createdAt: 'desc' } });
}
