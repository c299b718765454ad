import { isStaleConnection } from '../../cli/api-client';

/** Small helpers to call the API the way a client would: real HTTP, JSON in and out. */
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function call<T = any>(
  url: string,
  init: { method?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const hasJson = init.body !== undefined;
  const method = init.method ?? (hasJson || init.rawBody !== undefined ? 'POST' : 'GET');
  const request = () =>
    fetch(url, {
      method,
      headers: { ...(hasJson && { 'content-type': 'application/json' }), ...init.headers },
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
