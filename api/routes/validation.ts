import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { z } from 'zod';
import { IntentId } from '../../contracts/intent';
import type { ValidationReport } from '../../contracts/validation';
import type { IntentView, ValidationReportView } from '../../contracts/views';
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
    if (format === 'sarif') {
      res.type('application/sarif+json');
      await pipeline(await deps.store.stream(score.sarifKey), res);
      return;
    }
    const report = await deps.store.getJson<ValidationReport>(score.reportKey);
    const view: ValidationReportView = { ...report, links: { sarif: `/api/v1/intents/${id}/validation?format=sarif` } };
    res.json(view);
  });

  return router;
}
