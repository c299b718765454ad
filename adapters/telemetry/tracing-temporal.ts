import type { WorkflowClientInterceptor } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';
import { logContextInterceptors } from './logger-activity';
import { tracingResource, workflowSpanProcessor } from './tracing';

/**
 * Where Temporal meets tracing and logging: the client carries the caller's trace into the workflow
 * (StartWorkflow, updates, signals, queries), the workflow interceptors (bundled into workflow code)
 * continue it through child workflows and activities, and the activity interceptors run each activity
 * in its span with the intent, task and tenant on every line it logs.
 */

/** Modules the workflow bundle must include (`workflowInterceptorModules` / `interceptors.workflowModules`). */
export const workflowInterceptorModules: readonly string[] = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
  require.resolve('./logger-workflow'),
];

export function tracingClientInterceptors(): WorkflowClientInterceptor[] {
  return [new OpenTelemetryWorkflowClientInterceptor()];
}

/** Interceptors and sinks for a worker; `bundled`: its workflow bundle was built with the modules above. */
export function workerTelemetryOptions(bundled: boolean): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
        logContextInterceptors,
      ],
      // A prebuilt bundle already holds them (the SDK ignores, and warns about, modules given with one).
      ...(!bundled && { workflowModules: [...workflowInterceptorModules] }),
    },
    // Workflow spans leave the sandbox through this sink; the workflow interceptors call it.
    sinks: { exporter: makeWorkflowExporter(workflowSpanProcessor, tracingResource()) },
  };
}
