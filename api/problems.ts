import type { ErrorRequestHandler, Request, Response } from 'express';
import type { z } from 'zod';

/** An error that becomes an RFC 9457 problem response. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly errors?: { field: string; reason: string }[],
    readonly extra?: { quota?: { name: string; limit: number; used: number; resetsAt: string | null } },
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
  }
}

export const notFound = (what: string) => new Problem(404, 'Not found', `${what} does not exist`);

export function invalid(error: z.ZodError, where: string): Problem {
  const errors = error.issues.map((issue) => ({
    field: [where, ...issue.path].join('.'),
    reason: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
  return new Problem(400, 'Invalid request', errors.map((e) => `${e.field} ${e.reason}`).join('; '), errors);
}

export function sendProblem(res: Response, problem: Problem): void {
  res
    .set(problem.headers ?? {})
    .status(problem.status)
    .type('application/problem+json')
    .json({
      title: problem.title,
      status: problem.status,
      detail: problem.message,
      ...(problem.errors && { errors: problem.errors }),
      ...problem.extra,
    });
}

// body-parser marks its errors with a `type`; these are the client's mistakes, not ours.
const bodyParserProblems: Record<string, (err: Error) => Problem> = {
  'entity.too.large': () => new Problem(413, 'Payload too large', 'request body exceeds the size limit'),
  'entity.parse.failed': (err) => new Problem(400, 'Malformed JSON', `request body is not valid JSON: ${err.message}`),
  'encoding.unsupported': () => new Problem(415, 'Unsupported encoding', 'request body encoding is not supported'),
};

/**
 * Express decodes path parameters with decodeURIComponent and fails on malformed percent-encoding
 * (`/intents/%`, `/intents/%ff%fe`) with a URIError: the client's mistake. `templates` are the API's
 * paths (`/intents/{id}/validation`), relative to `base`, to name the parameter that held it.
 */
export function undecodablePath(err: Error, req: Request, base: string, templates: string[]): Problem | undefined {
  if (!(err instanceof URIError) || !err.message.startsWith('Failed to decode param')) return undefined;
  const raw = req.path.startsWith(`${base}/`) ? req.path.slice(base.length) : req.path;
  const segments = raw.split('/');
  const decodes = (segment: string) => {
    try {
      decodeURIComponent(segment);
      return true;
    } catch {
      return false;
    }
  };
  const bad = segments.findIndex((segment) => !decodes(segment));
  const template = templates
    .map((t) => t.split('/'))
    .find(
      (parts) => parts.length === segments.length && parts.every((p, i) => /^\{.+\}$/.test(p) || p === segments[i]),
    );
  const name = template?.[bad]?.replace(/^\{(.+)\}$/, '$1');
  const field = name && name !== template?.[bad] ? `path.${name}` : 'path';
  const reason = 'is not valid percent-encoding (a % must be followed by two hex digits forming UTF-8)';
  return new Problem(400, 'Invalid request', `${field} ${reason}`, [{ field, reason }]);
}

export const problemHandler: ErrorRequestHandler = (err: Error & { type?: string }, _req, res, next) => {
  if (res.headersSent) return next(err);
  if (err instanceof Problem) return sendProblem(res, err);
  const fromBodyParser = err.type ? bodyParserProblems[err.type] : undefined;
  if (fromBodyParser) return sendProblem(res, fromBodyParser(err));
  console.error('api: unexpected error', err.message);
  sendProblem(res, new Problem(500, 'Internal error', 'the server failed to handle the request; it has been logged'));
};
