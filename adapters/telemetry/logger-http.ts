import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { addLogContext, currentContext, getLogger, logContextStore, withLogContext, type LogContext } from './logger';

/**
 * The API's request log: one JSON line per request (method, route, status, duration) with its request
 * id (`X-Request-Id`, echoed), trace id, tenant and intent; and the same fields on every line logged
 * while the request is handled. Headers and bodies are never logged.
 */
export function requestLogging(): RequestHandler {
  const http = pinoHttp({
    logger: getLogger('api'),
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    serializers: {
      req: (req: IncomingMessage & { method?: string; url?: string }) => ({
        method: req.method,
        path: (req.url ?? '').split('?')[0],
      }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
    customProps: (_req, res) => requestFields(res),
    // A refused request is the client's problem, not the server's: info, like any other answer.
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
  });
  return (req, res, next) =>
    // The trace id now (the tracing middleware's span is active); the request's line is written later.
    withLogContext({ traceId: currentContext().traceId }, () => {
      // The live store: fields added while handling (tenant, intent) reach the request's line too.
      res.locals.logContext = logContextStore();
      http(req, res, next);
    });
}

/** After authentication: the caller's tenant, and the intent a route names. */
export const requestContext: RequestHandler = (req, res, next) => {
  const principal = res.locals.principal as { tenants?: string[]; subject?: string } | undefined;
  const tenants = principal?.tenants ?? [];
  const bodyTenant = (req.body as { tenant?: unknown } | undefined)?.tenant;
  addLogContext({
    tenant: typeof bodyTenant === 'string' ? bodyTenant : tenants.length ? tenants.join(',') : undefined,
    intentId: intentIdInPath(req.path),
  });
  next();
};

function intentIdInPath(path: string): string | undefined {
  return /^\/intents\/([^/]+)/.exec(path)?.[1];
}

function requestFields(res: ServerResponse): LogContext {
  const fields = { ...((res as { locals?: { logContext?: LogContext } }).locals?.logContext ?? {}) };
  // A submission names its new intent only in its answer.
  const location = res.getHeader('location');
  if (!fields.intentId && typeof location === 'string')
    fields.intentId = intentIdInPath(location.replace(/^.*\/api\/v1/, ''));
  return fields;
}
