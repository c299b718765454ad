import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { z } from 'zod';
import { TenantName } from './identity';

// The audit trail's hash chain, without a database: the server computes hashes with it when it
// appends, and anyone holding an export (the CLI, an auditor's script) recomputes the chain with it,
// without trusting the server. Uses node:crypto: never import this module from workflows/.
//
// Every event belongs to one chain: `intent:<uuid>` (the intent's steps, decisions, cancels),
// `tenant:<name>` (keys created or revoked, login failures, quota refusals) or `global` (a login
// failure naming no known tenant). Within a chain, events are numbered 1, 2, 3… (`seq`) and each
// carries the previous event's hash (`prevHash`). `hash` is sha256 (hex) over the RFC 8785 canonical
// JSON of {chain, seq, prevHash, eventKey, tenant, intentId, type, actor, data, createdAt}. Events
// recorded before the chain existed have no hash ("legacy"); they may only open a chain.

/** The chain an event belongs to. */
export function chainOf(event: { intentId?: string | null; tenant: string | null }): string {
  if (event.intentId) return `intent:${event.intentId.toLowerCase()}`;
  return event.tenant === null ? 'global' : `tenant:${event.tenant}`;
}

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 (64 lowercase hex digits)');

/** An audit event as the API exports it (JSON, or one per line in JSON Lines). */
export const AuditEventView = z.object({
  /** Insertion order across all chains (a bigint, as a string). */
  id: z.string().regex(/^\d+$/),
  eventKey: z.string(),
  chain: z.string(),
  seq: z.number().int().min(1),
  prevHash: sha256Hex.nullable(),
  /** null: recorded before the chain existed (legacy), not chained. */
  hash: sha256Hex.nullable(),
  tenant: z.string().nullable(),
  intentId: z.uuid().nullable(),
  type: z.string(),
  actor: z.string(),
  data: z.record(z.string(), z.unknown()),
  /** Millisecond precision; part of the hash. */
  createdAt: z.iso.datetime(),
});
export type AuditEventView = z.infer<typeof AuditEventView>;

/** The last event of a chain as the database's head table records it (seq 0: no event yet). */
export const AuditChainHeadView = z.object({
  chain: z.string(),
  tenant: z.string().nullable(),
  seq: z.number().int().min(0),
  hash: sha256Hex.nullable(),
});
export type AuditChainHeadView = z.infer<typeof AuditChainHeadView>;

export const auditProblemKinds = [
  /** The stored hash is not the hash of the row's content: the row was changed. */
  'edited',
  /** prevHash is not the previous event's hash. */
  'broken-link',
  /** seq numbers are missing: events were removed from the middle. */
  'missing',
  /** The same seq twice in a chain. */
  'duplicate',
  /** A row without hash after chained rows: only rows older than the chain may lack one. */
  'unchained',
  /** The row's chain does not match its intent/tenant. */
  'wrong-chain',
  /** The head is ahead of the last event: events were removed from the end. */
  'truncated',
  /** The last event does not match the head (other than a truncation). */
  'head-mismatch',
] as const;
export const AuditProblemKind = z.enum(auditProblemKinds);
export type AuditProblemKind = z.infer<typeof AuditProblemKind>;

export const AuditProblem = z.object({
  chain: z.string(),
  /** The event's seq, or the head's for a tail problem. */
  seq: z.number().int().nullable(),
  /** The event's id (null for a problem at the head). */
  eventId: z.string().nullable(),
  problem: AuditProblemKind,
  detail: z.string(),
});
export type AuditProblem = z.infer<typeof AuditProblem>;

export const AuditChainSummary = z.object({
  chain: z.string(),
  /** Events in the chain, legacy ones included. */
  events: z.number().int(),
  /** Events recorded before the chain existed: numbered but not chained, so not verifiable. */
  legacy: z.number().int(),
  /** The last event's seq and hash (the chain's head, as recomputed). */
  seq: z.number().int(),
  hash: sha256Hex.nullable(),
  /** Whether the database's head was given and compared (it detects a removed tail). */
  headChecked: z.boolean(),
});
export type AuditChainSummary = z.infer<typeof AuditChainSummary>;

export const AuditVerification = z.object({
  ok: z.boolean(),
  /** Chained events whose hash and link were recomputed. */
  checked: z.number().int(),
  /** Legacy events: not chained (recorded before the chain). */
  legacy: z.number().int(),
  chains: z.array(AuditChainSummary),
  problems: z.array(AuditProblem),
});
export type AuditVerification = z.infer<typeof AuditVerification>;

/** `GET /audit?intent=`: the intent's whole chain, its head, and the server's verification of it. */
export const AuditTrailView = z.object({
  intentId: z.uuid(),
  events: z.array(AuditEventView),
  head: AuditChainHeadView.nullable(),
  verification: AuditVerification,
});
export type AuditTrailView = z.infer<typeof AuditTrailView>;

/** `GET /audit` without intent: the caller's tenants' events in id order, a page at a time. */
export const AuditPageView = z.object({
  events: z.array(AuditEventView),
  /** Pass as `after` for the next page; null on the last page. */
  nextAfter: z.string().nullable(),
});
export type AuditPageView = z.infer<typeof AuditPageView>;

export const AUDIT_PAGE_MAX = 1000;

/** `GET /audit`: one intent's whole chain (`intent`), or the caller's tenants' events a page at a time. */
export const AuditQuery = z.strictObject({
  intent: z.uuid('must be an intent id (UUID)').optional(),
  format: z.enum(['json', 'jsonl'], { error: 'must be json or jsonl' }).default('json'),
  /** Without `intent`: only this tenant (one of the caller's). */
  tenant: TenantName.optional(),
  /** Without `intent`: events per page. */
  limit: z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(AUDIT_PAGE_MAX, `must be at most ${AUDIT_PAGE_MAX}`)
    .default(100),
  /** Without `intent`: events after this id (the previous page's `nextAfter`). */
  after: z
    .string()
    .regex(/^\d{1,18}$/, 'must be an event id (nextAfter of a previous page)')
    .optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

/** What the hash covers. */
export interface AuditHashInput {
  chain: string;
  seq: number;
  prevHash: string | null;
  eventKey: string;
  tenant: string | null;
  intentId: string | null;
  type: string;
  actor: string;
  data: Record<string, unknown>;
  createdAt: string | Date;
}

/** sha256 (hex) over the RFC 8785 canonical JSON of the event's content and its place in the chain. */
export function hashAuditEvent(event: AuditHashInput): string {
  const canonical = canonicalize({
    chain: event.chain,
    seq: event.seq,
    prevHash: event.prevHash,
    eventKey: event.eventKey,
    tenant: event.tenant,
    intentId: event.intentId,
    type: event.type,
    actor: event.actor,
    data: event.data,
    createdAt: new Date(event.createdAt).toISOString(),
  });
  if (canonical === undefined) throw new Error(`audit event ${event.eventKey} cannot be canonicalised`);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

type VerifiableEvent = AuditHashInput & { id: string; hash: string | null };

/**
 * Recomputes every chain present in `events` (any order, several chains allowed): each chained
 * event's hash from its content, each link to the previous event, gap-free numbering, and, for each
 * chain whose head is given, that the last event is the head (so a removed tail is detected; a head
 * with no events at all means the whole chain was removed).
 */
export function verifyChain(
  events: readonly VerifiableEvent[],
  heads: AuditChainHeadView | readonly AuditChainHeadView[] = [],
): AuditVerification {
  const headOf = new Map((Array.isArray(heads) ? heads : [heads]).map((h: AuditChainHeadView) => [h.chain, h]));
  const byChain = new Map<string, VerifiableEvent[]>();
  for (const event of events) {
    const list = byChain.get(event.chain) ?? [];
    list.push(event);
    byChain.set(event.chain, list);
  }
  for (const chain of headOf.keys()) if (!byChain.has(chain)) byChain.set(chain, []);

  const problems: AuditProblem[] = [];
  const chains: AuditChainSummary[] = [];
  let checked = 0;
  let legacyTotal = 0;
  for (const [chain, list] of [...byChain].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const sorted = [...list].sort((a, b) => a.seq - b.seq || Number(BigInt(a.id) - BigInt(b.id)));
    const report = (event: VerifiableEvent, problem: AuditProblemKind, detail: string) =>
      problems.push({ chain, seq: event.seq, eventId: event.id, problem, detail });
    let expected = 1;
    let previous: string | null = null;
    let chained = false;
    let legacy = 0;
    for (const event of sorted) {
      if (chainOf(event) !== chain) {
        report(event, 'wrong-chain', `event ${event.id} of ${chainOf(event)} is recorded on ${chain}`);
      }
      if (event.seq < expected) {
        report(event, 'duplicate', `seq ${event.seq} appears more than once`);
      } else if (event.seq > expected) {
        const gap = event.seq - 1 === expected ? `seq ${expected} is` : `seq ${expected}–${event.seq - 1} are`;
        report(event, 'missing', `${gap} missing before event ${event.id}: events were removed`);
      }
      expected = event.seq + 1;
      if (event.hash === null) {
        if (chained) {
          report(event, 'unchained', `event ${event.id} has no hash but follows chained events: its hash was removed`);
        }
        legacy += 1;
        previous = null;
        continue;
      }
      chained = true;
      checked += 1;
      if (event.prevHash !== previous) {
        report(
          event,
          'broken-link',
          `event ${event.id} links to ${event.prevHash ?? 'nothing'}, but the previous event's hash is ${previous ?? 'none'}`,
        );
      }
      const recomputed = hashAuditEvent(event);
      if (recomputed !== event.hash) {
        report(
          event,
          'edited',
          `event ${event.id} (seq ${event.seq}) does not match its hash: it was changed after it was recorded`,
        );
      }
      previous = event.hash;
    }
    const last = sorted.at(-1);
    const head = headOf.get(chain);
    if (head) {
      const lastSeq = last?.seq ?? 0;
      const lastHash = last?.hash ?? null;
      const at = { chain, seq: head.seq, eventId: null };
      if (head.seq > lastSeq) {
        problems.push({
          ...at,
          problem: 'truncated',
          detail: `the chain's head is seq ${head.seq} (${head.hash ?? 'no hash'}) but the last event is seq ${lastSeq}: events were removed from the end`,
        });
      } else if (head.seq !== lastSeq || head.hash !== lastHash) {
        problems.push({
          ...at,
          problem: 'head-mismatch',
          detail: `the chain's head is seq ${head.seq} (${head.hash ?? 'no hash'}) but the last event is seq ${lastSeq} (${lastHash ?? 'no hash'})`,
        });
      }
    }
    legacyTotal += legacy;
    chains.push({
      chain,
      events: sorted.length,
      legacy,
      seq: last?.seq ?? 0,
      hash: last?.hash ?? null,
      headChecked: head !== undefined,
    });
  }
  return { ok: problems.length === 0, checked, legacy: legacyTotal, chains, problems };
}
