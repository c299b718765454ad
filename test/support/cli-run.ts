import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** The real `qlp` (bin/qlp), as a user runs it: its exit code and everything it wrote. */
export function runQlp(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const qlp = join(__dirname, '..', '..', 'bin', 'qlp');
  return new Promise((resolve, reject) => {
    const { QLP_API_URL: _url, QLP_TOKEN: _token, ...inherited } = process.env;
    const child = spawn(qlp, args, {
      cwd,
      env: { ...inherited, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export type Route = (request: IncomingMessage, response: ServerResponse) => boolean;

/** A real HTTP server playing a (hostile) QuantumLayer API: the first route that answers wins, else 404. */
export async function hostileApi(routes: Route[]): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (routes.some((route) => route(request, response))) return;
    response.writeHead(404, { 'content-type': 'application/problem+json' });
    response.end(JSON.stringify({ title: 'Not found', status: 404, detail: `no ${request.url}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A route answering GET `path` (exactly, query included) with `body` as JSON. */
export function jsonRoute(path: string | RegExp, body: unknown): Route {
  return (request, response) => {
    const url = request.url ?? '';
    if (typeof path === 'string' ? url !== path : !path.test(url)) return false;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
    return true;
  };
}
