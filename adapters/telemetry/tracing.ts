import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanProcessor,
  type Span as SdkSpan,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Context } from '@opentelemetry/api';

/**
 * OpenTelemetry tracing for the API and the workers, configured by the standard variables:
 * spans are exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set and OTEL_TRACES_EXPORTER is not `none`; the exporter
 * reads the rest itself (OTEL_EXPORTER_OTLP_PROTOCOL, _HEADERS, _TIMEOUT…). Without an endpoint,
 * spans are still made (nothing leaves the process), so every log line can carry its trace id.
 */

export interface TracingOptions {
  /** service.name when OTEL_SERVICE_NAME is unset: `quantumlayer-api`, `quantumlayer-worker`. */
  serviceName: string;
  env?: NodeJS.ProcessEnv;
}

export interface Tracing {
  /** Whether spans leave the process (an OTLP endpoint is configured). */
  readonly exporting: boolean;
  readonly resource: Resource;
  /** Sends what is buffered now (tests; before exit). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const TRACER = 'quantumlayer';
let started: (Tracing & { processor?: SpanProcessor }) | undefined;

/** Installs the process's tracer provider once; later calls return the first (one provider per process). */
export function startTracing(options: TracingOptions): Tracing {
  if (started) return started;
  const env = options.env ?? process.env;
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME || options.serviceName });
  const exporting = tracingExports(env);
  const processor = exporting ? new BatchSpanProcessor(new OTLPTraceExporter()) : undefined;
  const provider = new NodeTracerProvider({ resource, spanProcessors: processor ? [processor] : [] });
  // Registers the AsyncLocalStorage context manager and the W3C trace-context propagator too.
  provider.register();
  started = {
    exporting,
    resource,
    processor,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
  return started;
}

/** The process's tracing, if started. */
export function currentTracing(): Tracing | undefined {
  return started;
}

export function tracingExports(env: NodeJS.ProcessEnv): boolean {
  if ((env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').includes('none')) return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Where workflow spans go: they are made inside the workflow sandbox and leave it through a sink,
 * into the processor of whatever tracing this process started (none: dropped).
 */
export const workflowSpanProcessor: SpanProcessor = {
  onStart: (span: SdkSpan, parent: Context) => started?.processor?.onStart(span, parent),
  onEnd: (span: ReadableSpan) => started?.processor?.onEnd(span),
  forceFlush: async () => started?.processor?.forceFlush(),
  shutdown: async () => undefined, // the provider owns the processor
};

/** The resource workflow spans are exported with (the process's, once tracing started). */
export function tracingResource(): Resource {
  return started?.resource ?? Resource.empty();
}

/**
 * Runs `fn` in a child span of the active one (an adapter's call: `llm.chat`, `s3.put`,
 * `sandbox.run`), ending it when `fn` settles and recording a failure.
 */
export function withSpan<T>(name: string, fn: (span: Span) => Promise<T>, attributes: Attributes = {}): Promise<T> {
  return trace.getTracer(TRACER).startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
