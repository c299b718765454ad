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
  const response = await fetch(url, {
    method: init.method ?? (hasJson || init.rawBody !== undefined ? 'POST' : 'GET'),
    headers: { ...(hasJson && { 'content-type': 'application/json' }), ...init.headers },
    body: hasJson ? JSON.stringify(init.body) : init.rawBody,
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
