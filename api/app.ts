import express, { type ErrorRequestHandler } from 'express';
import { requestContext, requestLogging } from '../adapters/telemetry/logger-http';
import { tracingMiddleware } from '../adapters/telemetry/tracing-http';
import { authenticate } from './auth/authenticate';
import type { ApiDependencies } from './dependencies';
import { openApiDocument } from './openapi';
import { notFound, problemHandler, undecodablePath } from './problems';
import { auditRoutes } from './routes/audit';
import { capsuleRoutes } from './routes/capsules';
import { codecRoutes } from './routes/codec';
import { dropRoutes } from './routes/drops';
import { healthRoutes } from './routes/health';
import { intentRoutes } from './routes/intents';
import { keyRoutes } from './routes/keys';
import { llmRoutes } from './routes/llm';
import { apiTelemetry, metricsRoutes, recordHttpMetrics } from './routes/metrics';
import { signingKeyRoutes } from './routes/signing-keys';
import { similarRoutes } from './routes/similar';
import { statusRoutes } from './routes/status';
import { validationRoutes } from './routes/validation';
import { webhookRoutes } from './routes/webhooks';

/** The REST API: validates, calls one Temporal or read-model function per route, maps the result. */
export function createApp(deps: ApiDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Each request is one server span and one JSON log line with its request, trace, tenant and intent ids.
  app.use(tracingMiddleware('/api/v1'), requestLogging());
  // First, so every answer is counted (codec, refused bodies); by route template, never the raw path.
  const telemetry = apiTelemetry();
  app.use(recordHttpMetrics(telemetry.http, '/api/v1', Object.keys(openApiDocument.paths)));
  // The codec server first: its CORS preflights come without credentials, and its bodies have their own limit.
  app.use('/api/v1/codec', codecRoutes(deps));
  app.use(express.json({ limit: deps.config.api.bodyLimit, strict: true }));
  const v1 = express.Router();
  // Open: the API's description and its health (for load balancers). Everything else needs credentials.
  v1.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  v1.use(healthRoutes(deps));
  // Its own authentication: the scrape token, or an auditor/admin credential.
  v1.use(metricsRoutes(deps, telemetry));
  v1.use(authenticate(deps));
  v1.use(requestContext);
  v1.use(
    intentRoutes(deps),
    capsuleRoutes(deps),
    llmRoutes(deps),
    validationRoutes(deps),
    dropRoutes(deps),
    similarRoutes(deps),
    keyRoutes(deps),
    auditRoutes(deps),
    signingKeyRoutes(deps),
    webhookRoutes(deps),
    statusRoutes(deps),
  );
  app.use('/api/v1', v1);
  app.use((req, _res, next) => next(notFound(`route ${req.method} ${req.path}`)));
  const templates = Object.keys(openApiDocument.paths);
  const pathErrors: ErrorRequestHandler = (err: Error, req, _res, next) =>
    next(undecodablePath(err, req, '/api/v1', templates) ?? err);
  app.use(pathErrors, problemHandler);
  return app;
}
