import { chainOf, hashAuditEvent, type AuditChainHeadView, type AuditEventView } from '../../contracts/audit-chain';
import type { AuditChainHead, AuditEvent, Prisma } from '../../generated/prisma/client';
import type { Database } from './client';

// The tamper-evident audit trail: append-only rows, each hash-chained to the previous event of its
// chain (contracts/audit-chain.ts), with a head per chain. The database enforces the rest
// (migration 20261203000000_audit_chain): UPDATE, DELETE and TRUNCATE are refused, and a trigger
// advances the chain's head with every row inserted, refusing a row that does not extend it.

/** One event to record. `eventKey` makes it idempotent: a retry with the same key records nothing. */
export interface AuditAppend {
  eventKey: string;
  /** null only for the `global` chain (e.g. a login failure naming no known tenant). */
  tenant: string | null;
  /** Present: the event joins the intent's chain; absent: the tenant's (or the global) chain. */
  intentId?: string;
  type: string;
  actor: string;
  data?: Record<string, unknown>;
  /** When it happened (millisecond precision); default: when it is appended. */
  at?: Date;
}

/** Where an event is (or already was) recorded. */
export interface AuditAppended {
  eventKey: string;
  chain: string;
  seq: number;
  hash: string | null;
  /** false: an event with this key was recorded before; nothing changed. */
  appended: boolean;
}

type Writer = Database | Prisma.TransactionClient;

// Generous: appends to one chain queue on its head's row lock.
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 };

/**
 * Appends events to their chains, in order, each with the next seq of its chain, the previous
 * event's hash and its own. Call it with an interactive transaction client to make the events part
 * of that transaction, or with the client (it opens one). Appends to one chain are serialised by a
 * row lock on the chain's head; chains are locked in name order, so two callers cannot deadlock.
 */
export async function appendAuditEvents(db: Writer, events: readonly AuditAppend[]): Promise<AuditAppended[]> {
  if (events.length === 0) return [];
  return isClient(db) ? db.$transaction((tx) => append(tx, events), TRANSACTION_OPTIONS) : append(db, events);
}

async function append(tx: Prisma.TransactionClient, events: readonly AuditAppend[]): Promise<AuditAppended[]> {
  const byChain = new Map<string, AuditAppend[]>();
  for (const event of events) {
    const chain = chainOf(event);
    byChain.set(chain, [...(byChain.get(chain) ?? []), event]);
  }
  const result = new Map<string, AuditAppended>();
  // Lock order: the intent rows first, then the chain heads. The read model's writer holds its intent
  // row (FOR UPDATE) when it appends, and an event's foreign key needs that row too: taking the head
  // first would deadlock with it.
  const intents = [...new Set(events.flatMap((e) => (e.intentId ? [e.intentId] : [])))].sort();
  for (const id of intents) await tx.$queryRaw`SELECT 1 FROM intents WHERE id = ${id}::uuid FOR UPDATE`;
  for (const chain of [...byChain.keys()].sort()) {
    const pending = byChain.get(chain)!;
    let head = await lockHead(tx, chain, pending[0]!.tenant);
    const existing = await tx.auditEvent.findMany({
      where: { eventKey: { in: pending.map((e) => e.eventKey) } },
      select: { eventKey: true, chain: true, chainSeq: true, hash: true },
    });
    for (const row of existing) {
      result.set(row.eventKey, {
        eventKey: row.eventKey,
        chain: row.chain,
        seq: row.chainSeq,
        hash: row.hash,
        appended: false,
      });
    }
    const rows: Prisma.AuditEventCreateManyInput[] = [];
    for (const event of pending) {
      if (result.has(event.eventKey)) continue;
      if (event.tenant !== head.tenant) {
        throw new Error(
          `audit event ${event.eventKey}: tenant ${event.tenant ?? 'none'} is not the tenant of ${chain} (${head.tenant ?? 'none'})`,
        );
      }
      const content = {
        chain,
        seq: head.seq + 1,
        prevHash: head.hash,
        eventKey: event.eventKey,
        tenant: event.tenant,
        intentId: event.intentId?.toLowerCase() ?? null,
        type: event.type,
        actor: event.actor,
        // What the jsonb column will give back: undefined dropped, dates as ISO strings.
        data: JSON.parse(JSON.stringify(event.data ?? {})) as Record<string, unknown>,
        createdAt: event.at ?? new Date(),
      };
      const hash = hashAuditEvent(content);
      rows.push({
        eventKey: content.eventKey,
        tenant: content.tenant,
        intentId: content.intentId,
        chain,
        chainSeq: content.seq,
        prevHash: content.prevHash,
        hash,
        type: content.type,
        actor: content.actor,
        data: content.data as Prisma.InputJsonObject,
        createdAt: content.createdAt,
      });
      result.set(event.eventKey, { eventKey: event.eventKey, chain, seq: content.seq, hash, appended: true });
      head = { ...head, seq: content.seq, hash };
    }
    // The trigger checks each row against the head and advances it, in this transaction.
    if (rows.length) await tx.auditEvent.createMany({ data: rows });
  }
  return events.map((e) => result.get(e.eventKey)!);
}

/** Appends one event; see appendAuditEvents. */
export async function appendAuditEvent(db: Writer, event: AuditAppend): Promise<AuditAppended> {
  const [appended] = await appendAuditEvents(db, [event]);
  return appended!;
}

interface LockedHead {
  seq: number;
  hash: string | null;
  tenant: string | null;
}

/** The chain's head, locked until the transaction ends; created (seq 0) for a new chain. */
async function lockHead(tx: Prisma.TransactionClient, chain: string, tenant: string | null): Promise<LockedHead> {
  const select = () => tx.$queryRaw<LockedHead[]>`
    SELECT seq, hash, tenant FROM audit_chain_heads WHERE chain = ${chain} FOR UPDATE`;
  const [head] = await select();
  if (head) return head;
  await tx.$executeRaw`
    INSERT INTO audit_chain_heads (chain, tenant, seq, hash) VALUES (${chain}, ${tenant}, 0, NULL)
    ON CONFLICT (chain) DO NOTHING`;
  const [created] = await select();
  return created!;
}

/** The client itself, not an interactive transaction's (which has $transaction too, for nesting, but no $disconnect). */
function isClient(db: Writer): db is Database {
  return typeof (db as Partial<Database>).$disconnect === 'function';
}

/** A row as the API exports it. */
export function auditEventView(row: AuditEvent): AuditEventView {
  return {
    id: row.id.toString(),
    eventKey: row.eventKey,
    chain: row.chain,
    seq: row.chainSeq,
    prevHash: row.prevHash,
    hash: row.hash,
    tenant: row.tenant,
    intentId: row.intentId,
    type: row.type,
    actor: row.actor,
    data: (row.data ?? {}) as Record<string, unknown>,
    createdAt: row.createdAt.toISOString(),
  };
}

export function auditChainHeadView(row: AuditChainHead): AuditChainHeadView {
  return { chain: row.chain, tenant: row.tenant, seq: row.seq, hash: row.hash };
}

/** An intent's chain as recorded, and its head (null if it has no events). */
export async function readIntentChain(
  db: Database,
  intentId: string,
  /** Restricts rows to these tenants (the caller's), in the query itself. */
  scope: { tenant: { in: string[] } },
): Promise<{ events: AuditEventView[]; head: AuditChainHeadView | null }> {
  const chain = chainOf({ intentId, tenant: null });
  // One snapshot: an append between the two reads would look like a removed tail.
  const [rows, head] = await db.$transaction(
    [
      db.auditEvent.findMany({ where: { chain, ...scope }, orderBy: { chainSeq: 'asc' } }),
      db.auditChainHead.findFirst({ where: { chain, ...scope } }),
    ],
    { isolationLevel: 'RepeatableRead' },
  );
  return { events: rows.map(auditEventView), head: head && auditChainHeadView(head) };
}
