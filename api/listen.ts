import type { Server } from 'node:http';
import type { Express } from 'express';

/**
 * Longer than the idle timeouts of common clients and load balancers (60 s), so the server is never the
 * side that closes a kept-alive connection a client is about to reuse (which the client sees as ECONNRESET).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Listens with keep-alive timeouts clients can rely on; resolves once listening, rejects on e.g. EADDRINUSE. */
export function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    // Express 5 hands listen errors (e.g. EADDRINUSE) to this callback instead of throwing.
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000; // must exceed keepAliveTimeout
  });
}
