import type { Headers } from '@temporalio/common';
import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { QlpTenant } from '../../contracts/search-attributes';
import { idsFromWorkflowId, stringHeader, stringPayload, TENANT_HEADER, traceIdFromHeaders } from './logger-ids';

/**
 * Workflow interceptors (bundled into workflow code: deterministic, no I/O) that put the intent, task,
 * tenant and trace on every workflow log line, and hand the tenant to the workflow's activities and
 * child workflows in a header. Headers are not part of the commands replay compares, so adding this
 * module changes no history.
 */
export const interceptors: WorkflowInterceptorsFactory = () => {
  const known: { tenant?: string; traceId?: string } = {};
  const tenant = () => known.tenant ?? tenantAttribute();
  const withTenant = <T extends { headers: Headers }>(input: T): T => {
    const value = tenant();
    return value ? { ...input, headers: { ...input.headers, [TENANT_HEADER]: stringPayload(value) } } : input;
  };
  return {
    inbound: [
      {
        execute(input, next) {
          known.tenant = stringHeader(input.headers, TENANT_HEADER) ?? tenantArgument(input.args);
          known.traceId = traceIdFromHeaders(input.headers);
          return next(input);
        },
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => next(withTenant(input)),
        scheduleLocalActivity: (input, next) => next(withTenant(input)),
        startChildWorkflowExecution: (input, next) => next(withTenant(input)),
        getLogAttributes(input, next) {
          const value = tenant();
          return next({
            ...idsFromWorkflowId(workflowInfo().workflowId),
            ...(value && { tenant: value }),
            ...(known.traceId && { trace_id: known.traceId }),
            ...input,
          });
        },
      },
    ],
  };
};

/** The intent workflow is started with its tenant as a search attribute (before `execute` runs). */
function tenantAttribute(): string | undefined {
  try {
    return workflowInfo().typedSearchAttributes.get(QlpTenant);
  } catch {
    return undefined;
  }
}

/** The intent workflow's input names its tenant. */
function tenantArgument(args: unknown[]): string | undefined {
  const first = args[0] as { tenant?: unknown } | undefined;
  return typeof first?.tenant === 'string' ? first.tenant : undefined;
}
