import type { Context } from '@temporalio/activity';
import type { ActivityInterceptors } from '@temporalio/worker';
import { withLogContext } from './logger';
import { idsFromWorkflowId, stringHeader, TENANT_HEADER, traceIdFromHeaders } from './logger-ids';

/**
 * Activity interceptors that put the intent, task, tenant and trace on every line an activity logs:
 * the SDK's own (`getLogAttributes`) and ours (pino's context, for the adapters the activity calls).
 * The tenant comes in a header from the workflow (logger-workflow.ts).
 */
export function logContextInterceptors(ctx: Context): ActivityInterceptors {
  // Standalone activities (started by a client, not a workflow) have no workflow execution.
  const execution = ctx.info.workflowExecution;
  const ids = idsFromWorkflowId(execution?.workflowId);
  const known: { tenant?: string; traceId?: string } = {};
  return {
    inbound: {
      execute(input, next) {
        known.tenant = stringHeader(input.headers, TENANT_HEADER);
        known.traceId = traceIdFromHeaders(input.headers);
        const fields = { ...ids, workflowId: execution?.workflowId, runId: execution?.runId };
        return withLogContext({ ...fields, ...(known.tenant && { tenant: known.tenant }) }, () => next(input));
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        return next({
          ...ids,
          ...(known.tenant && { tenant: known.tenant }),
          ...(known.traceId && { trace_id: known.traceId }),
          ...input,
        });
      },
    },
  };
}
