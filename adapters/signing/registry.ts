import type { CapsuleSigner, SigningKeyView } from '../../contracts/capsule';
import type { Database } from '../db/client';

/**
 * Records the signer's public key, so the API serves it to verifiers (GET /api/v1/signing-keys). Keys
 * are never deleted: a capsule signed years ago must still verify. Idempotent (worker restarts).
 */
export async function registerSigningKey(db: Database, signer: CapsuleSigner): Promise<void> {
  // INSERT … ON CONFLICT DO NOTHING: an upsert is read-then-write, and two workers starting at once both inserted.
  await db.signingKey.createMany({
    data: [{ keyId: signer.keyId, algorithm: 'ed25519', publicKeyPem: signer.publicKeyPem }],
    skipDuplicates: true,
  });
}

/** After a rotation: the keys it replaced stop being current (they stay listed, with when they were retired). */
export async function retireKeys(db: Database, keyIds: string[]): Promise<number> {
  const { count } = await db.signingKey.updateMany({
    where: { keyId: { in: keyIds }, retiredAt: null },
    data: { retiredAt: new Date() },
  });
  return count;
}

export async function listSigningKeys(db: Database): Promise<SigningKeyView[]> {
  const rows = await db.signingKey.findMany({ orderBy: [{ createdAt: 'asc' }, { keyId: 'asc' }] });
  return rows.map((row) => ({
    keyId: row.keyId,
    algorithm: 'ed25519' as const,
    publicKeyPem: row.publicKeyPem,
    createdAt: row.createdAt.toISOString(),
    retiredAt: row.retiredAt?.toISOString() ?? null,
  }));
}
