import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';

/**
 * One server span per HTTP request, continuing a caller's `traceparent` if it sent one; everything the
 * request does (the Temporal client's StartWorkflow, database and S3 calls) runs inside it. A small
 * middleware rather than the http/express auto-instrumentation, which needs to patch modules before
 * they load (fragile under test runners and bundlers).
 */
export function tracingMiddleware(mount = ''): RequestHandler {
  const tracer = trace.getTracer('quantumlayer');
  return (req, res, next) => {
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(
      `${req.method} ${mount}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path } },
      parent,
    );
    res.once('finish', () => {
      // The route template (not the path): one span name per operation, whatever the ids.
      const route = (req.route as { path?: unknown } | undefined)?.path;
      if (typeof route === 'string') {
        span.updateName(`${req.method} ${mount}${route}`);
        span.setAttribute('http.route', `${mount}${route}`);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
