import { defaultPayloadConverter, type Payload } from '@temporalio/common';

/**
 * Pure helpers shared by the logger and its interceptors, including the workflow one (so: no I/O, no
 * Node modules; this file is bundled into workflow code).
 */

/** Carries the intent's tenant from a workflow to its activities and child workflows. */
export const TENANT_HEADER = 'qlp-tenant';
/** Where @temporalio/interceptors-opentelemetry puts the W3C trace context. */
const TRACE_HEADER = '_tracer-data';

/** The intent and task a workflow id names: `intent-<id>` and `intent-<id>/task-<taskId>`. */
export function idsFromWorkflowId(workflowId: string | undefined): { intentId?: string; taskId?: string } {
  const match = /^intent-([^/]+)(?:\/task-(.+))?$/.exec(workflowId ?? '');
  if (!match) return {};
  return match[2] ? { intentId: match[1], taskId: match[2] } : { intentId: match[1] };
}

/** A header holding a string (as the tenant header does), or undefined. */
export function stringHeader(headers: Record<string, Payload>, name: string): string | undefined {
  const payload = headers[name];
  if (!payload) return undefined;
  try {
    const value: unknown = defaultPayloadConverter.fromPayload(payload);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

export function stringPayload(value: string): Payload {
  return defaultPayloadConverter.toPayload(value);
}

/** The trace id of the W3C `traceparent` the OpenTelemetry interceptors propagated, if any. */
export function traceIdFromHeaders(headers: Record<string, Payload>): string | undefined {
  const payload = headers[TRACE_HEADER];
  if (!payload) return undefined;
  try {
    const carrier = defaultPayloadConverter.fromPayload<{ traceparent?: unknown }>(payload);
    const match = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(String(carrier?.traceparent ?? ''));
    return match?.[1];
  } catch {
    return undefined;
  }
}
