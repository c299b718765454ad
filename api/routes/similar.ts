import { Router } from 'express';
import { z } from 'zod';
import { embeddingOf } from '../../adapters/db/embeddings';
import { similarIntentsOf } from '../../adapters/db/similar';
import { LOCAL_EMBEDDING_MODEL } from '../../adapters/llm/local-embedding';
import { IntentId } from '../../contracts/intent';
import type { SimilarIntentsView } from '../../contracts/similar';
import { authorize, tenantScope } from '../auth/guard';
import type { ApiDependencies } from '../dependencies';
import { notFound } from '../problems';
import { parse } from '../validate';

const IntentPath = z.object({ id: IntentId });

export function similarRoutes(deps: ApiDependencies): Router {
  const router = Router();

  /** The earlier intents of the same tenant found similar at submission, with their status, scores, capsule, approvers. */
  router.get('/intents/:id/similar', async (req, res) => {
    const principal = authorize(res, 'intent:read');
    const { id } = parse(IntentPath, req.params, 'path');
    const intent = await deps.db.intent.findFirst({ where: { id, ...tenantScope(principal) }, select: { id: true } });
    if (!intent) throw notFound(`intent ${id}`);
    const [embedding, rows] = await Promise.all([
      embeddingOf(deps.db, id),
      similarIntentsOf(deps.db, id, principal.tenants),
    ]);
    const offline = embedding?.model === LOCAL_EMBEDDING_MODEL;
    const view: SimilarIntentsView = {
      intentId: id,
      embedding: embedding ? { ...embedding, offline, kind: offline ? 'local' : 'provider' } : null,
      threshold: embedding ? deps.config.embeddings.similarity.threshold : null,
      similar: rows.map((row) => ({
        intentId: row.intentId,
        text: row.text,
        similarity: row.similarity,
        status: row.status,
        createdAt: row.createdAt.toISOString(),
        scores: row.scores,
        verdict: row.verdict,
        capsule: row.capsule,
        approvers: row.approvers,
        links: {
          self: `/api/v1/intents/${row.intentId}`,
          ...(row.capsule && { capsule: `/api/v1/capsules/${row.capsule.id}` }),
        },
      })),
    };
    res.json(view);
  });

  return router;
}
