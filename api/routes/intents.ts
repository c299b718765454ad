import { Router } from 'express';
import { z } from 'zod';
import { DecisionInput } from '../../contracts/decision';
import {
  CancelIntentRequest,
  IdempotencyKey,
  IntentId,
  ListIntentsQuery,
  SubmitIntentRequest,
} from '../../contracts/intent';
import type { DecisionResponse } from '../../contracts/views';
import type { ApiDependencies } from '../dependencies';
import { cancelIntent, decideIntent, submitIntent } from '../intent-commands';
import { getIntent, intentView, listIntents } from '../intent-views';
import { notFound, Problem } from '../problems';
import { parse } from '../validate';

const IntentPath = z.object({ id: IntentId });

/** JSON bodies only: anything else is a 415, so a form post is never half-understood. */
function requireJson(contentType: string | undefined): void {
  if (!contentType || !/^application\/(.+\+)?json\b/i.test(contentType)) {
    throw new Problem(415, 'Unsupported media type', 'request body must be JSON (Content-Type: application/json)');
  }
}

export function intentRoutes(deps: ApiDependencies): Router {
  const router = Router();

  router.post('/intents', async (req, res) => {
    requireJson(req.headers['content-type']);
    const key = req.header('idempotency-key');
    const idempotencyKey = key === undefined ? undefined : parse(IdempotencyKey, key, 'header.idempotency-key');
    const body = parse(SubmitIntentRequest, req.body ?? {}, 'body');
    const { intent, replayed } = await submitIntent(deps, body, idempotencyKey);
    const view = (await getIntent(deps, intent.id)) ?? intentView(deps, intent);
    res
      .status(202)
      .location(view.links.self)
      .set(replayed ? { 'Idempotent-Replayed': 'true' } : {})
      .json(view);
  });

  router.get('/intents', async (req, res) => {
    res.json(await listIntents(deps, parse(ListIntentsQuery, req.query, 'query')));
  });

  router.get('/intents/:id', async (req, res) => {
    const { id } = parse(IntentPath, req.params, 'path');
    const intent = await getIntent(deps, id);
    if (!intent) throw notFound(`intent ${id}`);
    res.json(intent);
  });

  router.post('/intents/:id/decision', async (req, res) => {
    const { id } = parse(IntentPath, req.params, 'path');
    requireJson(req.headers['content-type']);
    const input = parse(DecisionInput, req.body ?? {}, 'body');
    const decision = await decideIntent(deps, id, input);
    const response: DecisionResponse = {
      intentId: id,
      accepted: true,
      decision,
      links: { self: `/api/v1/intents/${id}` },
    };
    res.json(response);
  });

  router.post('/intents/:id/cancel', async (req, res) => {
    const { id } = parse(IntentPath, req.params, 'path');
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody) requireJson(req.headers['content-type']);
    const request = parse(CancelIntentRequest, hasBody ? req.body : {}, 'body');
    await cancelIntent(deps, id, request);
    res.status(202).json({ intentId: id, cancelling: true, links: { self: `/api/v1/intents/${id}` } });
  });

  return router;
}
