import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

// The process's own Prometheus metrics (prom-client): CPU, memory, event loop, GC, and, in the API,
// HTTP requests. Business metrics are computed from the read model at scrape time (metrics-business.ts).

export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Seconds: an API answer is usually milliseconds; a capsule download or a verification can take seconds. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** One registry per process, with the standard process and Node.js metrics and a `component` label. */
export function processRegistry(component: 'api' | 'worker'): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** HTTP request count and duration by route template (never the raw path: ids would explode the series). */
export class HttpMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(registry: Registry) {
    const labelNames = ['method', 'route', 'status'] as const;
    this.requests = new Counter({
      name: 'qlp_http_requests_total',
      help: 'HTTP requests answered by the API, by method, route template and status code',
      labelNames,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'qlp_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route template and status code',
      labelNames,
      buckets: HTTP_BUCKETS,
      registers: [registry],
    });
  }

  observe(request: { method: string; route: string; status: number; seconds: number }): void {
    const labels = { method: request.method, route: request.route, status: String(request.status) };
    this.requests.inc(labels);
    this.duration.observe(labels, request.seconds);
  }
}

/** A worker's registry: process metrics and what it hosts (`qlp_worker_info`), so a scrape names the worker. */
export function workerRegistry(hosts: { roles: readonly string[]; taskQueue: string }): Registry {
  const registry = processRegistry('worker');
  const info = new Gauge({
    name: 'qlp_worker_info',
    help: 'A running worker process: its roles and the task queue it serves (always 1)',
    labelNames: ['roles', 'task_queue'],
    registers: [registry],
  });
  info.set({ roles: [...hosts.roles].sort().join(','), task_queue: hosts.taskQueue }, 1);
  return registry;
}
