import { Router, type Response } from 'express';
import { auditEventView, readIntentChain } from '../../adapters/db/audit';
import {
  AuditQuery,
  verifyChain,
  type AuditEventView,
  type AuditPageView,
  type AuditTrailView,
} from '../../contracts/audit-chain';
import { authorize, tenantScope } from '../auth/guard';
import type { ApiDependencies } from '../dependencies';
import { notFound } from '../problems';
import { parse } from '../validate';

/** JSON Lines, for compliance export: one event per line. */
function sendJsonLines(res: Response, events: AuditEventView[], next?: string): void {
  if (next) res.links({ next });
  res.type('application/x-ndjson').send(events.map((event) => `${JSON.stringify(event)}\n`).join(''));
}

export function auditRoutes(deps: ApiDependencies): Router {
  const router = Router();

  /**
   * `?intent=<id>`: the intent's whole chain, its head and the chain recomputed (auditors should
   * recompute it themselves too: `qlp audit verify`). Without `intent`: the caller's tenants' events
   * in id order, `limit` at a time, `after` the previous page's `nextAfter`.
   */
  router.get('/audit', async (req, res) => {
    const principal = authorize(res, 'audit:read');
    const query = parse(AuditQuery, req.query, 'query');
    const scope = tenantScope(principal);

    if (query.intent) {
      // Another tenant's intent answers exactly like one that does not exist.
      const intent = await deps.db.intent.findFirst({ where: { id: query.intent, ...scope }, select: { id: true } });
      if (!intent) throw notFound(`intent ${query.intent}`);
      const { events, head } = await readIntentChain(deps.db, intent.id, scope);
      if (query.format === 'jsonl') return sendJsonLines(res, events);
      const trail: AuditTrailView = {
        intentId: intent.id,
        events,
        head,
        verification: verifyChain(events, head ? [head] : []),
      };
      return res.json(trail);
    }

    const rows = await deps.db.auditEvent.findMany({
      where: {
        AND: [scope, ...(query.tenant ? [{ tenant: query.tenant }] : [])],
        ...(query.after !== undefined && { id: { gt: BigInt(query.after) } }),
      },
      orderBy: { id: 'asc' },
      take: query.limit + 1,
    });
    const events = rows.slice(0, query.limit).map(auditEventView);
    const nextAfter = rows.length > query.limit ? events.at(-1)!.id : null;
    if (query.format === 'jsonl') {
      const next = new URLSearchParams({
        ...(query.tenant && { tenant: query.tenant }),
        format: 'jsonl',
        limit: String(query.limit),
        ...(nextAfter && { after: nextAfter }),
      });
      return sendJsonLines(res, events, nextAfter ? `${req.baseUrl}/audit?${next.toString()}` : undefined);
    }
    const page: AuditPageView = { events, nextAfter };
    res.json(page);
  });

  return router;
}
