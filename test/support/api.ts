import { isStaleConnection } from '../../cli/api-client';

/** Small helpers to call the API the way a client would: real HTTP, JSON in and out. */
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

let defaultToken: string | undefined;

/** The credential `call` sends unless told otherwise (the test stack's submitter key). */
export function setDefaultToken(token: string | undefined): void {
  defaultToken = token;
}

export async function call<T = any>(
  url: string,
  init: {
    method?: string;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
    /** The bearer credential; null sends none (anonymous); default: the stack's submitter key. */
    token?: string | null;
  } = {},
): Promise<ApiResponse<T>> {
  const hasJson = init.body !== undefined;
  const method = init.method ?? (hasJson || init.rawBody !== undefined ? 'POST' : 'GET');
  const token = init.token === undefined ? defaultToken : init.token;
  const request = () =>
    fetch(url, {
      method,
      headers: {
        ...(hasJson && { 'content-type': 'application/json' }),
        ...(token && { authorization: `Bearer ${token}` }),
        ...init.headers,
      },
      body: hasJson ? JSON.stringify(init.body) : init.rawBody,
    });
  // As the CLI does: a GET on a kept-alive connection the server closed meanwhile is sent once more.
  const response = await request().catch((error: unknown) => {
    if (method === 'GET' && isStaleConnection(error)) return request();
    throw error;
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

/**
 * Decides at the gate as an approver would: reads the review digest the gate shows, then sends the
 * decision bound to it (default: as the stack's approver).
 */
export async function decide(
  apiUrl: string,
  intentId: string,
  decision: { decision: 'approve' | 'reject'; reason?: string; digest?: string },
  token: string,
  route: 'decision' | 'decision-token' = 'decision',
): Promise<ApiResponse> {
  const digest = decision.digest ?? (await call(`${apiUrl}/intents/${intentId}`, { token })).body?.gate?.digest;
  return call(`${apiUrl}/intents/${intentId}/${route}`, { body: { ...decision, digest }, token });
}
