import express, { type ErrorRequestHandler } from 'express';
import { authenticate } from './auth/authenticate';
import type { ApiDependencies } from './dependencies';
import { openApiDocument } from './openapi';
import { notFound, problemHandler, undecodablePath } from './problems';
import { auditRoutes } from './routes/audit';
import { capsuleRoutes } from './routes/capsules';
import { dropRoutes } from './routes/drops';
import { healthRoutes } from './routes/health';
import { intentRoutes } from './routes/intents';
import { keyRoutes } from './routes/keys';
import { llmRoutes } from './routes/llm';
import { signingKeyRoutes } from './routes/signing-keys';
import { validationRoutes } from './routes/validation';
import { webhookRoutes } from './routes/webhooks';

/** The REST API: validates, calls one Temporal or read-model function per route, maps the result. */
export function createApp(deps: ApiDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: deps.config.api.bodyLimit, strict: true }));
  const v1 = express.Router();
  // Open: the API's description and its health (for load balancers). Everything else needs credentials.
  v1.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  v1.use(healthRoutes(deps));
  v1.use(authenticate(deps));
  v1.use(
    intentRoutes(deps),
    capsuleRoutes(deps),
    llmRoutes(deps),
    validationRoutes(deps),
    dropRoutes(deps),
    keyRoutes(deps),
    auditRoutes(deps),
    signingKeyRoutes(deps),
    webhookRoutes(deps),
  );
  app.use('/api/v1', v1);
  app.use((req, _res, next) => next(notFound(`route ${req.method} ${req.path}`)));
  const templates = Object.keys(openApiDocument.paths);
  const pathErrors: ErrorRequestHandler = (err: Error, req, _res, next) =>
    next(undecodablePath(err, req, '/api/v1', templates) ?? err);
  app.use(pathErrors, problemHandler);
  return app;
}
