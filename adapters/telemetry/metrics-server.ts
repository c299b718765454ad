import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE } from './metrics';

/** What a metrics endpoint exposes: Prometheus text, rendered at each scrape. */
export interface MetricsSource {
  metrics(): Promise<string>;
}

export interface MetricsServer {
  /** host:port actually bound (port 0 picks a free one). */
  address: string;
  close(): Promise<void>;
}

/**
 * A worker's `GET /metrics` on its own port, unauthenticated: it carries process metrics only (no tenant
 * data), and is meant for a private network or a pod's port, like the Temporal SDK's exporter beside it.
 */
export async function serveMetrics(bind: string, source: MetricsSource): Promise<MetricsServer> {
  const separator = bind.lastIndexOf(':');
  const host = bind.slice(0, separator);
  const port = Number(bind.slice(separator + 1));
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    source.metrics().then(
      (text) => res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(text),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(error as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { address, port: bound } = server.address() as AddressInfo;
  return {
    address: `${address}:${bound}`,
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
