import { z } from 'zod';
import type { Section } from './setting';

// Prometheus metrics (docs/operations.md): how the API's GET /api/v1/metrics may be scraped, and where a
// worker serves its own process metrics and the Temporal SDK's.

const metrics: Section = { title: 'Metrics (Prometheus)' };

const bindAddress = z.string().regex(/^[^:\s]+:\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:9464');

export const metricsEnvShape = {
  METRICS_SCRAPE_TOKEN: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
    .optional()
    .meta({
      section: metrics,
      doc: [
        'A bearer token that lets Prometheus scrape GET /api/v1/metrics for every tenant.',
        'Unset: only API keys or OIDC tokens with the auditor or admin role may, for their own tenants.',
      ],
    }),
  WORKER_METRICS_BIND: bindAddress.optional().meta({
    section: metrics,
    doc: 'Where a worker serves its process metrics (GET /metrics, unauthenticated). Unset: it serves none.',
  }),
  TEMPORAL_METRICS_BIND: bindAddress.optional().meta({
    section: metrics,
    doc: "Where a worker's Temporal SDK serves its own metrics (workflow task latency, polls, slots). Unset: none.",
  }),
};

type MetricsEnv = z.output<z.ZodObject<typeof metricsEnvShape>>;

export interface MetricsConfig {
  /** Bearer token for a deployment-wide scrape of the API's metrics; undefined: role-based access only. */
  scrapeToken?: string;
  /** host:port of the worker's prom-client endpoint. */
  workerBind?: string;
  /** host:port of the Temporal SDK's Prometheus exporter in the worker process. */
  temporalBind?: string;
}

export function toMetricsConfig(env: MetricsEnv): MetricsConfig {
  return {
    scrapeToken: env.METRICS_SCRAPE_TOKEN,
    workerBind: env.WORKER_METRICS_BIND,
    temporalBind: env.TEMPORAL_METRICS_BIND,
  };
}
