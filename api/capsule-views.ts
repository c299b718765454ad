import type { Readable } from 'node:stream';
import type { Capsule, Prisma, SigningKey } from '../generated/prisma/client';
import type { CapsuleMetadata, VerificationResult } from '../contracts/capsule';
import type { ListCapsulesQuery } from '../contracts/capsule-query';
import type { Principal } from '../contracts/identity';
import type { CapsuleDetailView, CapsulePage, CapsuleSummaryView } from '../contracts/views';
import { verifyCapsule } from '../capsule/verify';
import { tenantScope } from './auth/guard';
import type { ApiDependencies } from './dependencies';
import { Problem } from './problems';

/** Above this, GET /capsules/:id reports verification `skipped`: a read should not stream gigabytes. */
export const VERIFY_ON_READ_MAX_BYTES = 256 * 1024 * 1024;

export function capsuleSummaryView(row: Capsule): CapsuleSummaryView {
  const self = `/api/v1/capsules/${row.id}`;
  const metadata = row.metadata as CapsuleMetadata | null;
  return {
    id: row.id,
    intentId: row.intentId,
    version: row.version,
    format: row.format,
    createdAt: row.createdAt.toISOString(),
    sha256: row.sha256,
    sizeBytes: Number(row.sizeBytes),
    fileCount: row.fileCount,
    // Columns the packaging activity fills with these same shapes (contracts/artifacts.ts CapsuleRef).
    verdict: row.verdict as CapsuleSummaryView['verdict'],
    frameworks: (row.frameworks ?? {}) as CapsuleSummaryView['frameworks'],
    keyId: row.keyId,
    metadata: metadata && {
      name: metadata.name,
      version: metadata.version,
      securityRisk: metadata.securityRisk,
      qualityScore: metadata.qualityScore,
      tags: metadata.tags,
    },
    links: { self, download: `${self}/download`, intent: `/api/v1/intents/${row.intentId}` },
  };
}

/** Newest first, keyset-paginated so pages stay stable while capsules arrive. */
export async function listCapsules(
  deps: ApiDependencies,
  principal: Principal,
  query: ListCapsulesQuery,
): Promise<CapsulePage> {
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  const conditions: Prisma.CapsuleWhereInput[] = [
    { intent: tenantScope(principal) },
    ...(query.intentId ? [{ intentId: query.intentId }] : []),
    ...(query.verdict ? [{ verdict: query.verdict }] : []),
    ...(query.format ? [{ format: query.format }] : []),
    ...(query.createdAfter ? [{ createdAt: { gt: new Date(query.createdAfter) } }] : []),
    ...(query.createdBefore ? [{ createdAt: { lt: new Date(query.createdBefore) } }] : []),
    ...(query.framework ? [frameworkFilter(query.framework, query.frameworkStatus)] : []),
    ...(after
      ? [{ OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }]
      : []),
  ];
  const rows = await deps.db.capsule.findMany({
    where: { AND: conditions },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map(capsuleSummaryView),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
  };
}

/** With a status: exactly it. Without: the framework was assessed (pass or fail), not merely listed. */
function frameworkFilter(framework: string, status?: string): Prisma.CapsuleWhereInput {
  const statuses = status ? [status] : ['pass', 'fail'];
  return { OR: statuses.map((equals) => ({ frameworks: { path: [framework], equals } })) };
}

/** A capsule of the caller's tenants with its versions, signers and a verification of the stored archive. */
export async function getCapsule(
  deps: ApiDependencies,
  principal: Principal,
  id: string,
): Promise<CapsuleDetailView | undefined> {
  const row = await deps.db.capsule.findFirst({ where: { id, intent: tenantScope(principal) } });
  if (!row) return undefined;
  const [versions, keys] = await Promise.all([
    deps.db.capsule.findMany({
      where: { intentId: row.intentId },
      orderBy: { version: 'asc' },
      select: { id: true, version: true, createdAt: true, sha256: true },
    }),
    deps.db.signingKey.findMany(),
  ]);
  const verification = await verifyStored(deps, row, trustedKeys(keys));
  const signers = new Set([
    ...(row.keyId ? [row.keyId] : []),
    ...('signedBy' in verification ? verification.signedBy : []),
  ]);
  const byId = new Map(keys.map((key) => [key.keyId, key]));
  return {
    ...capsuleSummaryView(row),
    metadata: row.metadata as CapsuleMetadata | null,
    versions: versions.map((v) => ({ ...v, createdAt: v.createdAt.toISOString() })),
    signatures: [...signers].map((keyId) => {
      const key = byId.get(keyId);
      return {
        keyId,
        known: key !== undefined,
        retired: Boolean(key?.retiredAt),
        retiredAt: key?.retiredAt?.toISOString() ?? null,
      };
    }),
    verification,
  };
}

async function verifyStored(
  deps: ApiDependencies,
  row: Capsule,
  keys: Map<string, string>,
): Promise<CapsuleDetailView['verification']> {
  const stat = await deps.store.stat(row.objectKey);
  if (!stat) return missingArchive(row);
  const sizeBytes = Math.max(stat.size, Number(row.sizeBytes));
  if (sizeBytes > VERIFY_ON_READ_MAX_BYTES) {
    return {
      status: 'skipped',
      reason: `the archive is larger than ${VERIFY_ON_READ_MAX_BYTES} bytes, the most verified on read: download it and run qlp verify`,
      sizeBytes,
      limitBytes: VERIFY_ON_READ_MAX_BYTES,
    };
  }
  // The stored object must be this capsule: intact, signed, and not another capsule under its key.
  return verifyArchive(await deps.store.stream(row.objectKey), keys, row.id);
}

/** The row says there is a capsule, the bucket has no such object: a failed verification, not a server error. */
function missingArchive(row: Capsule): VerificationResult {
  const detail = `${row.objectKey} is not in bucket ${row.bucket}`;
  return {
    status: 'failed',
    format: row.format,
    capsuleId: row.id,
    intentId: row.intentId,
    version: row.version,
    signedBy: [],
    fileCount: 0,
    checks: [{ check: 'archive', ok: false, detail }],
    errors: [detail],
  };
}

/** Verifies an archive against every registered key, retired ones included (they still vouch for old capsules). */
export async function verifyArchive(
  archive: Buffer | Readable,
  keys: Map<string, string>,
  requested?: string,
): Promise<VerificationResult> {
  const { result } = await verifyCapsule(archive, { trustedKeys: keys, ...(requested && { requested }) });
  return result;
}

export function trustedKeys(keys: SigningKey[]): Map<string, string> {
  return new Map(keys.map((key) => [key.keyId, key.publicKeyPem]));
}

function encodeCursor(row: Capsule): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    // Checked before they reach the database: a malformed uuid or date there would be a server error.
    if (typeof createdAt !== 'string' || typeof id !== 'string' || !uuid.test(id)) throw new Error('bad cursor');
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || date.toISOString() !== createdAt) throw new Error('bad cursor');
    return { createdAt: date, id };
  } catch {
    throw new Problem(400, 'Invalid request', 'query.cursor is not a cursor returned by a previous page', [
      { field: 'query.cursor', reason: 'is not a cursor returned by a previous page' },
    ]);
  }
}
