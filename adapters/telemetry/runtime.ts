import { Runtime, type Logger } from '@temporalio/worker';

export interface TemporalRuntimeOptions {
  /** Receives the SDK's, workflows' and activities' log lines (the structured logger, when there is one). */
  logger?: Logger;
  /** host:port where the SDK serves its own Prometheus metrics (`GET /metrics`); unset: none. */
  metricsBind?: string;
}

/**
 * Installs the process's Temporal runtime: its logger and the SDK's Prometheus exporter (workflow and
 * activity task latencies, polls, slots, sticky cache). The SDK allows one per process, before the
 * first connection or worker; call it first thing in a worker's main.
 */
export function installTemporalRuntime(options: TemporalRuntimeOptions = {}): Runtime {
  return Runtime.install({
    ...(options.logger && { logger: options.logger }),
    ...(options.metricsBind && {
      telemetryOptions: {
        metrics: {
          // Seconds and `_total` counters: Prometheus conventions, so alerts and the dashboard read alike.
          prometheus: { bindAddress: options.metricsBind, useSecondsForDurations: true, countersTotalSuffix: true },
        },
      },
    }),
  });
}
