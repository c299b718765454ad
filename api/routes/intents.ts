import { Router } from 'express';
import { z } from 'zod';
import { DecisionRequest } from '../../contracts/decision';
import {
  CancelIntentBody,
  IdempotencyKey,
  IntentId,
  ListIntentsQuery,
  SubmitIntentRequest,
} from '../../contracts/intent';
import type { DecisionResponse, DecisionTokenView } from '../../contracts/views';
import { authorizeDecision, queryGate } from '../gate-view';
import { authorize } from '../auth/guard';
import type { ApiDependencies } from '../dependencies';
import { cancelIntent, decideIntent, decisionToken, submitIntent } from '../intent-commands';
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
    const principal = authorize(res, 'intent:submit');
    requireJson(req.headers['content-type']);
    const key = req.header('idempotency-key');
    const idempotencyKey = key === undefined ? undefined : parse(IdempotencyKey, key, 'header.idempotency-key');
    const body = parse(SubmitIntentRequest, req.body ?? {}, 'body');
    const { intent, replayed } = await submitIntent(deps, principal, body, idempotencyKey);
    const view = (await getIntent(deps, principal, intent.id)) ?? intentView(deps, intent);
    res
      .status(202)
      .location(view.links.self)
      .set(replayed ? { 'Idempotent-Replayed': 'true' } : {})
      .json(view);
  });

  router.get('/intents', async (req, res) => {
    const principal = authorize(res, 'intent:read');
    res.json(await listIntents(deps, principal, parse(ListIntentsQuery, req.query, 'query')));
  });

  router.get('/intents/:id', async (req, res) => {
    const principal = authorize(res, 'intent:read');
    const { id } = parse(IntentPath, req.params, 'path');
    const intent = await getIntent(deps, principal, id);
    if (!intent) throw notFound(`intent ${id}`);
    res.json(intent);
  });

  router.post('/intents/:id/decision', async (req, res) => {
    const { id } = parse(IntentPath, req.params, 'path');
    const principal = await authorizeDecision(deps, res, id);
    requireJson(req.headers['content-type']);
    const request = parse(DecisionRequest, req.body ?? {}, 'body');
    const decision = await decideIntent(deps, principal, id, request);
    const gate = await queryGate(deps, id);
    const response: DecisionResponse = {
      intentId: id,
      accepted: true,
      decision,
      ...(gate && { gate }),
      links: { self: `/api/v1/intents/${id}` },
    };
    res.json(response);
  });

  /** A signed decision for ops who send it as a `decision` signal (temporal CLI) rather than through the API. */
  router.post('/intents/:id/decision-token', async (req, res) => {
    const { id } = parse(IntentPath, req.params, 'path');
    const principal = await authorizeDecision(deps, res, id);
    requireJson(req.headers['content-type']);
    const request = parse(DecisionRequest, req.body ?? {}, 'body');
    const view: DecisionTokenView = await decisionToken(deps, principal, id, request);
    res.json(view);
  });

  router.post('/intents/:id/cancel', async (req, res) => {
    const principal = authorize(res, 'intent:cancel');
    const { id } = parse(IntentPath, req.params, 'path');
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody) requireJson(req.headers['content-type']);
    const request = parse(CancelIntentBody, hasBody ? req.body : {}, 'body');
    await cancelIntent(deps, principal, id, { ...request, requestedBy: principal.name });
    res.status(202).json({ intentId: id, cancelling: true, links: { self: `/api/v1/intents/${id}` } });
  });

  return router;
}
