import { pipeline } from 'node:stream/promises';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { dropKeys } from '../../adapters/storage/artifacts';
import { DropGate, DropQuery, type QuantumDropView } from '../../contracts/drop';
import { IntentId } from '../../contracts/intent';
import type { IntentView } from '../../contracts/views';
import { authorize, tenantScope } from '../auth/guard';
import type { ApiDependencies } from '../dependencies';
import { streamJsonWithMembers } from '../intent-views';
import { notFound, Problem } from '../problems';
import { parse } from '../validate';

const Path = z.object({ id: IntentId, gate: DropGate });

/** The page may style itself and nothing else: no script, no fetch, no frame, even if a string escaped escaping. */
const HTML_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
  'X-Content-Type-Options': 'nosniff',
};

/** HTML when asked with ?format=html, or (without format) when the client prefers text/html, as a browser does. */
function wantsHtml(req: Request, format: 'json' | 'html' | undefined): boolean {
  if (format) return format === 'html';
  return req.accepts(['application/json', 'text/html']) === 'text/html';
}

/** Versions probed in storage past the one the gate names: far more than requests for changes allow. */
const MAX_VERSIONS = 100;

/**
 * The newest stored version of the gate's drop, from the one the gate state names (version 1 when it
 * names none, as in intents gated before drops): undefined when not even that one is stored.
 */
async function newestStored(
  deps: ApiDependencies,
  id: string,
  gate: DropGate,
  from: number,
): Promise<number | undefined> {
  let newest: number | undefined;
  for (let version = from; version < from + MAX_VERSIONS; version++) {
    if (!(await deps.store.stat(dropKeys(id, gate, version).json))) break;
    newest = version;
  }
  return newest;
}

export function dropRoutes(deps: ApiDependencies): Router {
  const router = Router();

  /** The gate's review bundle (QuantumDrop): JSON, or the self-contained HTML page a reviewer reads. */
  router.get('/intents/:id/drops/:gate', async (req, res) => {
    const principal = authorize(res, 'intent:read');
    const { id, gate } = parse(Path, req.params, 'path');
    const { format } = parse(DropQuery, req.query, 'query');
    const intent = await deps.db.intent.findFirst({ where: { id, ...tenantScope(principal) }, select: { gate: true } });
    if (!intent) throw notFound(`intent ${id}`);
    const named = (intent.gate as IntentView['gate'])?.drop;
    const from = named?.gate === gate && Number.isSafeInteger(named.version) && named.version >= 1 ? named.version : 1;
    const version = await newestStored(deps, id, gate, from);
    const none = () => new Problem(404, 'No review bundle', `intent ${id} has no QuantumDrop for its ${gate} gate yet`);
    if (version === undefined) throw none();
    const keys = dropKeys(id, gate, version);
    res.vary('Accept');
    if (wantsHtml(req, format)) {
      const stat = await deps.store.stat(keys.html);
      if (!stat) throw none();
      res.set({ ...HTML_HEADERS, 'Content-Length': String(stat.size) });
      await pipeline(await deps.store.stream(keys.html), res);
      return;
    }
    const self = `/api/v1/intents/${id}/drops/${gate}`;
    const links: QuantumDropView['links'] = { self, html: `${self}?format=html` };
    const drop = await streamJsonWithMembers(deps.store, keys.json, { links });
    if (!drop) throw none();
    res.set({
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(drop.length),
      'X-Content-Type-Options': 'nosniff',
    });
    await pipeline(drop.body, res);
  });

  return router;
}
