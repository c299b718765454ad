import { AsyncLocalStorage } from 'node:async_hooks';
import { context as otelContext, isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger } from 'pino';
import { redactSecretsIn, refreshSecretsFromEnvironment, secretPaths } from './logger-redact';

export { idsFromWorkflowId } from './logger-ids';

/**
 * The process's JSON logger (pino): the API, the workers and the Temporal SDK (routed in by
 * `temporalLogger`) all write through it. Every line carries the context it was written in
 * (request id, tenant, intent, task, workflow and run ids) and the active trace id; secrets are
 * removed by path and by value before a line leaves the process (logger-redact.ts).
 */

/** What a log line says about where it was written; set per request and per workflow/activity. */
export interface LogContext {
  requestId?: string;
  tenant?: string;
  intentId?: string;
  taskId?: string;
  workflowId?: string;
  runId?: string;
  traceId?: string;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface LoggingOptions {
  level?: LogLevel;
  /** Where lines go; default stdout (errors: stderr). Tests pass a stream that keeps them. */
  destination?: DestinationStream;
}

const contextStore = new AsyncLocalStorage<LogContext>();

let root: Logger = build({});

function build(options: LoggingOptions): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level ?? (process.env.LOG_LEVEL as LogLevel | undefined) ?? 'info',
    base: { pid: process.pid },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: secretPaths, censor: '[REDACTED]' },
    mixin: () => currentContext(),
    // The last line of defence: known secret values and credential shapes, wherever they appear.
    hooks: { streamWrite: redactSecretsIn },
  };
  return pino(settings, options.destination ?? standardStreams());
}

/**
 * Errors (and worse) on stderr, everything else on stdout, each line once; synchronous, so a process
 * that exits right after logging why loses nothing.
 */
function standardStreams(): DestinationStream {
  return pino.multistream(
    [
      { level: 'trace', stream: pino.destination({ dest: 1, sync: true }) },
      { level: 'error', stream: pino.destination({ dest: 2, sync: true }) },
    ],
    { dedupe: true },
  );
}

/** Replaces the process's logger (level, destination) and re-reads the environment's secrets. */
export function configureLogging(options: LoggingOptions = {}): Logger {
  refreshSecretsFromEnvironment();
  root = build(options);
  return root;
}

const children = new Map<string, { parent: Logger; child: Logger }>();

/**
 * The logger of one component (`api`, `worker`…). It follows `configureLogging`, so a module may take
 * it once at load time.
 */
export function getLogger(component: string): Logger {
  const current = (): Logger => {
    let entry = children.get(component);
    if (entry?.parent !== root) children.set(component, (entry = { parent: root, child: root.child({ component }) }));
    return entry.child;
  };
  return new Proxy({} as Logger, {
    get(_target, property) {
      const child = current();
      const value: unknown = Reflect.get(child, property, child);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(child) : value;
    },
  });
}

/** The configured logger itself: for adapters that must follow a later `configureLogging`. */
export function rootLogger(): Logger {
  return root;
}

/** Runs `fn` with `fields` on every line it logs (and everything it awaits). */
export function withLogContext<T>(fields: LogContext, fn: () => T): T {
  return contextStore.run({ ...contextStore.getStore(), ...fields }, fn);
}

/** Adds fields to the current context (e.g. the tenant once a request is authenticated). */
export function addLogContext(fields: LogContext): void {
  const store = contextStore.getStore();
  if (store) Object.assign(store, dropUndefined(fields));
}

/** The current context itself (mutable), if any. */
export function logContextStore(): LogContext | undefined {
  return contextStore.getStore();
}

/** The current context's fields and the active span's trace id. */
export function currentContext(): LogContext {
  const fields: LogContext = { ...contextStore.getStore() };
  const span = trace.getSpan(otelContext.active())?.spanContext();
  if (span && isSpanContextValid(span)) fields.traceId = span.traceId;
  return fields;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
