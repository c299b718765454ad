import { CliError, ExitCode } from './errors';
import { escapeJsonText, escapeOneLine, sanitizeDeep } from './terminal-text';

const API_PREFIX = '/api/v1';
const DEFAULT_TIMEOUT_MS = 30_000;

export interface ProblemField {
  field: string;
  reason: string;
}

/** An RFC 9457 problem (or any non-2xx answer) from the API. */
export class ApiProblem extends CliError {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly errors: ProblemField[],
    /** The response body exactly as received, for --json. */
    readonly raw: string,
  ) {
    super(
      escapeOneLine(detail),
      ExitCode.failure,
      restatesDetail(detail, errors) ? [] : errors.map((e) => escapeOneLine(`${e.field}: ${e.reason}`)),
    );
    this.name = 'ApiProblem';
  }
}

/** The API's detail for one invalid field is already "field reason"; don't print it twice. */
function restatesDetail(detail: string, errors: ProblemField[]): boolean {
  const [only] = errors;
  return errors.length === 1 && only !== undefined && detail.includes(only.field) && detail.includes(only.reason);
}

export class ApiUnreachable extends CliError {
  constructor(baseUrl: string, reason: string) {
    super(
      `cannot reach the QuantumLayer API at ${baseUrl}: ${reason}; is it running? (scripts/up, or set QLP_API_URL)`,
      ExitCode.unreachable,
    );
    this.name = 'ApiUnreachable';
  }
}

export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  /** The parsed body, every string safe to print (control characters escaped), unless `verbatim` was asked. */
  body: T;
  /** The body text, its control and invisible characters as JSON escapes, so --json prints what the API said, inertly. */
  raw: string;
}

interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Non-2xx statuses whose body is a normal answer (e.g. 503 from /health). */
  accept?: number[];
  /** The body exactly as sent, for callers that recompute something from it (audit hashes) and print nothing raw. */
  verbatim?: boolean;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
    /** Sent as `Authorization: Bearer`; never printed. */
    private readonly token?: string,
  ) {}

  delete<T>(path: string, options: RequestOptions = {}): Promise<JsonResponse<T>> {
    return this.json<T>('DELETE', path, options);
  }

  get<T>(path: string, options: RequestOptions = {}): Promise<JsonResponse<T>> {
    return this.json<T>('GET', path, options);
  }

  post<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<JsonResponse<T>> {
    return this.json<T>('POST', path, { ...options, body });
  }

  /** A streaming GET: the timeout covers only the wait for headers, not the transfer. */
  async stream(path: string): Promise<Response> {
    const response = await this.send('GET', path, {}, (timer) => clearTimeout(timer));
    if (!response.ok) throw problemFrom(response, await response.text(), this.baseUrl);
    return response;
  }

  private async json<T>(method: string, path: string, options: RequestOptions): Promise<JsonResponse<T>> {
    let timer: NodeJS.Timeout | undefined;
    const response = await this.send(method, path, options, (t) => (timer = t));
    try {
      const raw = await response.text().catch((error: unknown) => {
        throw this.unreachable(error);
      });
      if (!response.ok && !options.accept?.includes(response.status)) {
        throw problemFrom(response, raw, this.baseUrl);
      }
      return {
        status: response.status,
        headers: response.headers,
        body: options.verbatim
          ? parseJson<T>(raw, response, this.baseUrl)
          : sanitizeDeep(parseJson<T>(raw, response, this.baseUrl)),
        raw: escapeJsonText(raw),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  private async send(
    method: string,
    path: string,
    options: RequestOptions,
    onHeaders: (timer: NodeJS.Timeout) => void,
  ): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`no answer within ${this.timeoutMs / 1000} s`)),
      this.timeoutMs,
    );
    const request = () =>
      fetch(`${this.baseUrl}${API_PREFIX}${path}`, {
        method,
        signal: controller.signal,
        headers: {
          accept: 'application/json, application/problem+json',
          ...(options.body !== undefined && { 'content-type': 'application/json' }),
          ...(this.token && { authorization: `Bearer ${this.token}` }),
          ...options.headers,
        },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    try {
      const response = await request().catch((error: unknown) => {
        // A kept-alive connection the server closed as we reused it: safe to send an idempotent request again.
        if (isIdempotent(method, options.headers) && isStaleConnection(error)) return request();
        throw error;
      });
      onHeaders(timer);
      return response;
    } catch (error) {
      clearTimeout(timer);
      throw this.unreachable(controller.signal.aborted ? controller.signal.reason : error);
    }
  }

  private unreachable(error: unknown): ApiUnreachable {
    return new ApiUnreachable(this.baseUrl, networkReason(error));
  }
}

function isIdempotent(method: string, headers: Record<string, string> = {}): boolean {
  return (
    method === 'GET' || method === 'HEAD' || Object.keys(headers).some((h) => h.toLowerCase() === 'idempotency-key')
  );
}

/** The connection was reset or closed under a request that had not been answered yet. */
export function isStaleConnection(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } })?.cause;
  return ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(cause?.code ?? '');
}

/** fetch hides the useful part ("connect ECONNREFUSED 127.0.0.1:9") in `cause`, sometimes an AggregateError. */
export function networkReason(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause ?? error;
  const c = cause as { message?: string; code?: string; errors?: { message?: string }[] };
  const reason = c.message || c.errors?.[0]?.message || c.code || String(error);
  return reason === 'bad port'
    ? 'fetch refuses to connect to this port (a "bad port", see the Fetch standard)'
    : reason;
}

function problemFrom(response: Response, raw: string, baseUrl: string): ApiProblem {
  const body = tryParse(raw) as { title?: unknown; detail?: unknown; errors?: unknown } | undefined;
  if (body && typeof body === 'object' && typeof body.detail === 'string') {
    const errors = Array.isArray(body.errors) ? (body.errors as ProblemField[]) : [];
    const title = typeof body.title === 'string' ? body.title : response.statusText;
    // A server-side failure is not the user's fault; the status tells them to look at the API's log.
    const detail = response.status >= 500 ? `${body.detail} (HTTP ${response.status})` : body.detail;
    return new ApiProblem(response.status, escapeOneLine(title), detail, errors, escapeJsonText(raw));
  }
  // Not a problem document: probably not the QuantumLayer API (a proxy, another server on that port).
  const hint = response.status === 404 ? ` (is ${baseUrl} a QuantumLayer API?)` : '';
  return new ApiProblem(
    response.status,
    escapeOneLine(response.statusText),
    `HTTP ${response.status} ${response.statusText} from ${response.url}${hint}`,
    [],
    escapeJsonText(raw),
  );
}

function parseJson<T>(raw: string, response: Response, baseUrl: string): T {
  const parsed = tryParse(raw);
  if (parsed === undefined) {
    throw new CliError(`the API at ${baseUrl} answered ${response.url} with something that is not JSON`);
  }
  return parsed as T;
}

function tryParse(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}
