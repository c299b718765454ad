import { Router } from 'express';
import { cacheStatistics } from '../../adapters/llm';
import type { LlmStatsView } from '../../contracts/views';
import { authorize } from '../auth/guard';
import type { ApiDependencies } from '../dependencies';

export function llmRoutes(deps: ApiDependencies): Router {
  const router = Router();
  /** The response cache's hit rate over every recorded LLM call. */
  router.get('/llm/stats', async (_req, res) => {
    const principal = authorize(res, 'intent:read');
    const stats: LlmStatsView = await cacheStatistics(deps.db, { tenants: principal.tenants });
    res.json(stats);
  });
  return router;
}
