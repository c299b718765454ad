import type { LogLevel as TemporalLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { idsFromWorkflowId, rootLogger, type LogLevel } from './logger';

const levels: Record<TemporalLevel, LogLevel> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** SDK attributes not worth a line's bytes (the task token is an opaque blob). */
const dropped = new Set(['taskToken']);

/**
 * The Temporal SDK's logger (pass it to the Runtime): the SDK's own lines, workflow `log` and activity
 * `log` become pino lines with our field names: workflowId, runId, intentId, taskId, tenant, traceId
 * (the log interceptors add tenant and the trace; ids come from the workflow id).
 */
export function temporalLogger(): TemporalLogger {
  const log = (level: TemporalLevel, message: string, meta?: LogMetadata) => {
    const logger = rootLogger();
    const pinoLevel = levels[level] ?? 'info';
    if (!logger.isLevelEnabled(pinoLevel)) return;
    logger[pinoLevel]({ component: 'temporal', ...normalise(meta ?? {}) }, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

function normalise(meta: LogMetadata): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (typeof key !== 'string' || dropped.has(key) || value === undefined) continue;
    if (key === 'workflowRunId') fields.runId = value;
    else if (key === 'trace_id') fields.traceId = value;
    else if (key === 'span_id') fields.spanId = value;
    else if (key === 'trace_flags') continue;
    else if (key === 'error' || key === 'failure') fields.err = value;
    else fields[key] = value;
  }
  const workflowId = typeof fields.workflowId === 'string' ? fields.workflowId : undefined;
  return { ...idsFromWorkflowId(workflowId), ...fields };
}
