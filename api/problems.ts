import type { ErrorRequestHandler, Response } from 'express';
import type { z } from 'zod';

/** An error that becomes an RFC 9457 problem response. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly errors?: { field: string; reason: string }[],
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
    .status(problem.status)
    .type('application/problem+json')
    .json({
      title: problem.title,
      status: problem.status,
      detail: problem.message,
      ...(problem.errors && { errors: problem.errors }),
    });
}

// body-parser marks its errors with a `type`; these are the client's mistakes, not ours.
const bodyParserProblems: Record<string, (err: Error) => Problem> = {
  'entity.too.large': () => new Problem(413, 'Payload too large', 'request body exceeds the size limit'),
  'entity.parse.failed': (err) => new Problem(400, 'Malformed JSON', `request body is not valid JSON: ${err.message}`),
  'encoding.unsupported': () => new Problem(415, 'Unsupported encoding', 'request body encoding is not supported'),
};

export const problemHandler: ErrorRequestHandler = (err: Error & { type?: string }, _req, res, next) => {
  if (res.headersSent) return next(err);
  if (err instanceof Problem) return sendProblem(res, err);
  const fromBodyParser = err.type ? bodyParserProblems[err.type] : undefined;
  if (fromBodyParser) return sendProblem(res, fromBodyParser(err));
  console.error('api: unexpected error', err.message);
  sendProblem(res, new Problem(500, 'Internal error', 'the server failed to handle the request; it has been logged'));
};
