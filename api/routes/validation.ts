import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { z } from 'zod';
import { IntentId } from '../../contracts/intent';
import type { IntentView, ValidationReportView } from '../../contracts/views';
import { streamJsonWithMembers } from '../intent-views';
import { authorize, tenantScope } from '../auth/guard';
import type { ApiDependencies } from '../dependencies';
import { notFound, Problem } from '../problems';
import { parse } from '../validate';

const Path = z.object({ id: IntentId });
const Query = z.strictObject({ format: z.enum(['json', 'sarif']).default('json') });

export function validationRoutes(deps: ApiDependencies): Router {
  const router = Router();

  /** The intent's combined validation report (scores, findings, controls), or its SARIF with ?format=sarif. */
  router.get('/intents/:id/validation', async (req, res) => {
    const principal = authorize(res, 'intent:read');
    const { id } = parse(Path, req.params, 'path');
    const { format } = parse(Query, req.query, 'query');
    const intent = await deps.db.intent.findFirst({
      where: { id, ...tenantScope(principal) },
      select: { validation: true },
    });
    if (!intent) throw notFound(`intent ${id}`);
    const score = (intent.validation as IntentView['validation'])?.score;
    if (!score) throw new Problem(404, 'Not validated yet', `intent ${id} has no validation report yet`);
    const missing = () => new Problem(404, 'Report missing', `intent ${id}'s validation report is not in storage`);
    // Reports can be large: both forms go from S3 to the client as a stream, with an exact length.
    if (format === 'sarif') {
      const stat = await deps.store.stat(score.sarifKey);
      if (!stat) throw missing();
      res.set({ 'Content-Type': 'application/sarif+json', 'Content-Length': String(stat.size) });
      await pipeline(await deps.store.stream(score.sarifKey), res);
      return;
    }
    const links: ValidationReportView['links'] = { sarif: `/api/v1/intents/${id}/validation?format=sarif` };
    const report = await streamJsonWithMembers(deps.store, score.reportKey, { links });
    if (!report) throw missing();
    res.set({ 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(report.length) });
    await pipeline(report.body, res);
  });

  return router;
}
