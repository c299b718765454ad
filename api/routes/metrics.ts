import { timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { businessMetrics } from '../../adapters/telemetry/metrics-business';
import { HttpMetrics, PROMETHEUS_CONTENT_TYPE, processRegistry } from '../../adapters/telemetry/metrics';
import { authenticate } from '../auth/authenticate';
import { authorize } from '../auth/guard';
import type { ApiDependencies } from '../dependencies';

/** The API process's own metrics: process, Node.js and HTTP requests by route template. */
export interface ApiTelemetry {
  registry: Registry;
  http: HttpMetrics;
}

export function apiTelemetry(): ApiTelemetry {
  const registry = processRegistry('api');
  return { registry, http: new HttpMetrics(registry) };
}

/**
 * Counts every request by its route template (`/intents/{id}`, from the OpenAPI paths), never its raw
 * path: ids in labels would make a series per intent. Anything else is `unmatched`.
 */
export function recordHttpMetrics(http: HttpMetrics, prefix: string, templates: string[]): RequestHandler {
  const matchers = templates
    .map((template) => ({
      template,
      params: (template.match(/\{/g) ?? []).length,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}/?$`),
    }))
    // Literal segments win: `/capsules/verify` before `/capsules/{id}`.
    .sort((a, b) => a.params - b.params);
  const routeOf = (path: string) => {
    if (!path.startsWith(prefix)) return 'unmatched';
    const rest = path.slice(prefix.length) || '/';
    return matchers.find((m) => m.pattern.test(rest))?.template ?? 'unmatched';
  };
  return (req, res, next) => {
    const started = performance.now();
    const path = req.path;
    res.on('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      http.observe({ method: req.method, route: routeOf(path), status: res.statusCode, seconds });
    });
    next();
  };
}

/**
 * GET /metrics in Prometheus text: the API process's metrics, then the business metrics from the read
 * model. Who may scrape: the deployment's scrape token (METRICS_SCRAPE_TOKEN: every tenant), or an API key or
 * OIDC token with the auditor or admin role (its own tenants). Mounted before the authentication of
 * the other routes, so the scrape token is not mistaken for a bad API key.
 */
export function metricsRoutes(deps: ApiDependencies, telemetry: ApiTelemetry): Router {
  const router = Router();
  const authenticated = authenticate(deps);
  const token = deps.config.metrics.scrapeToken;
  const scrapeOrAuthenticate: RequestHandler = (req, res, next) => {
    if (token && bearerIs(req.header('authorization'), token)) {
      res.locals.scrapeAll = true;
      return next();
    }
    return authenticated(req, res, next);
  };
  router.get('/metrics', scrapeOrAuthenticate, async (_req, res) => {
    const tenants = res.locals.scrapeAll === true ? 'all' : authorize(res, 'metrics:read').tenants;
    const business = await businessMetrics(deps.db, { tenants });
    const [own, computed] = await Promise.all([telemetry.registry.metrics(), business.metrics()]);
    res.type(PROMETHEUS_CONTENT_TYPE).send(`${own}\n${computed}`);
  });
  return router;
}

/** Compares in constant time, so the token cannot be guessed a byte at a time from response times. */
function bearerIs(header: string | undefined, token: string): boolean {
  const match = /^Bearer +(\S+)$/i.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
