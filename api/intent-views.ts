import type { Capsule, Intent, Task } from '../generated/prisma/client';
import { summariseUsage } from '../adapters/llm';
import { workflowUiUrl } from '../adapters/temporal/client';
import type { ListIntentsQuery } from '../contracts/intent';
import type { IntentPage, IntentView } from '../contracts/views';
import type { Principal } from '../contracts/identity';
import { tenantScope } from './auth/guard';
import type { ObjectStore } from '../adapters/storage/s3';
import type { ApiDependencies } from './dependencies';
import { Problem } from './problems';

type IntentRow = Intent & { tasks?: Task[]; capsules?: Capsule[] };

/** The public shape of an intent: the read model plus links to act on it. */
/** The intent's newest capsule version; the capsule API lists them all. */
const latestCapsule = { orderBy: { version: 'desc' as const }, take: 1 };

/** What an intent view says about a capsule; the capsule API (api/routes/capsules.ts) says more. */
export function capsuleSummary(capsule: Capsule | undefined): IntentView['capsule'] {
  if (!capsule) return null;
  return {
    id: capsule.id,
    version: capsule.version,
    sha256: capsule.sha256,
    sizeBytes: Number(capsule.sizeBytes),
    fileCount: capsule.fileCount,
    location: `s3://${capsule.bucket}/${capsule.objectKey}`,
    download: `/api/v1/capsules/${capsule.id}/download`,
  };
}

export function intentView(deps: ApiDependencies, row: IntentRow): IntentView {
  const self = `/api/v1/intents/${row.id}`;
  return {
    id: row.id,
    tenant: row.tenant,
    text: row.text,
    submittedBy: row.submittedBy,
    status: row.status,
    statusReason: row.statusReason,
    workflowId: row.workflowId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
    ...(row.tasks && {
      tasks: [...row.tasks]
        .sort((a, b) => b.priority - a.priority || a.taskId.localeCompare(b.taskId))
        .map((task) => ({
          id: task.taskId,
          type: task.type,
          description: task.description,
          dependencies: task.dependencies,
          status: task.status,
          fileCount: task.fileCount,
          attempts: task.attempts,
          error: task.error,
          startedAt: task.startedAt?.toISOString() ?? null,
          finishedAt: task.finishedAt?.toISOString() ?? null,
        })),
    }),
    // JSON columns hold what the workflow recorded, in these same shapes.
    validation: row.validation as IntentView['validation'],
    gate: row.gate as IntentView['gate'],
    capsule: capsuleSummary(row.capsules?.[0]),
    links: {
      self,
      decision: `${self}/decision`,
      temporalUi: workflowUiUrl(deps.config, row.workflowId),
      drop: `${self}/drops/release`,
    },
  };
}

/** An intent of one of the caller's tenants; another tenant's is as absent as an unknown one. */
export async function getIntent(deps: ApiDependencies, principal: Principal, id: string) {
  const row = await deps.db.intent.findFirst({
    where: { id, ...tenantScope(principal) },
    include: { tasks: true, capsules: latestCapsule },
  });
  if (!row) return null;
  const offline = (row.plan as { mode?: string } | null)?.mode === 'offline';
  return { ...intentView(deps, row), usage: await summariseUsage(deps.db, id, offline) };
}

/** Newest first, keyset-paginated so pages stay stable while intents arrive. */
export async function listIntents(
  deps: ApiDependencies,
  principal: Principal,
  query: ListIntentsQuery,
): Promise<IntentPage> {
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  const rows = await deps.db.intent.findMany({
    where: {
      ...tenantScope(principal),
      ...(query.status && { status: query.status }),
      ...(after && {
        OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
      }),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
    include: { capsules: latestCapsule },
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => intentView(deps, row)),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
  };
}

function encodeCursor(row: Intent): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || typeof id !== 'string') throw new Error('bad cursor');
    return { createdAt: date, id };
  } catch {
    throw new Problem(400, 'Invalid request', 'query.cursor is not a cursor returned by a previous page', [
      { field: 'query.cursor', reason: 'is not a cursor returned by a previous page' },
    ]);
  }
}

/** A stored JSON object as a stream, with members appended at its end: its exact length, never parsed or buffered. */
export interface JsonStream {
  length: number;
  body: AsyncIterable<Buffer>;
}

const TAIL_BYTES = 64;
const isJsonSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/**
 * Streams a stored report from S3 with `members` added to its top-level object (e.g. `links`): only the
 * object's last bytes are read to find its closing brace; the rest goes from S3 to the client as it comes.
 * Undefined when the object does not exist.
 */
export async function streamJsonWithMembers(
  store: ObjectStore,
  key: string,
  members: Record<string, unknown>,
): Promise<JsonStream | undefined> {
  const stat = await store.stat(key);
  if (!stat) return undefined;
  const tailLength = Math.min(stat.size, TAIL_BYTES);
  const tail = tailLength > 0 ? await store.getRange(key, stat.size - tailLength, tailLength) : Buffer.alloc(0);
  let close = tail.length - 1;
  while (close >= 0 && isJsonSpace(tail[close])) close--;
  if (close < 0 || tail[close] !== 0x7d) throw new Error(`stored object ${key} is not a JSON object`);
  let previous = close - 1;
  while (previous >= 0 && isJsonSpace(tail[previous])) previous--;
  if (previous < 0) throw new Error(`stored object ${key} ends in more whitespace than expected`);
  const empty = tail[previous] === 0x7b; // `{}`: no comma before the first member
  const inner = JSON.stringify(members, null, 2).slice(1, -1); // the members at the top level's indentation
  const suffix = Buffer.from(`${empty ? '' : ','}${inner}}`);
  const head = stat.size - tailLength + previous + 1; // up to the last member, without the closing brace
  async function* body(): AsyncGenerator<Buffer> {
    if (head > 0) for await (const chunk of await store.streamRange(key, 0, head)) yield chunk as Buffer;
    yield suffix;
  }
  return { length: head + suffix.length, body: body() };
}
