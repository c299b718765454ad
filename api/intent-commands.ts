import { createHash, randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { executeUpdate } from '../adapters/temporal/updates';
import type { DecisionInput, DecisionRecord } from '../contracts/decision';
import { intentWorkflowId, type CancelRequest, type SubmitIntentRequest } from '../contracts/intent';
import { QlpStatus, QlpTenant } from '../contracts/search-attributes';
import { markdownLiteral } from '../contracts/text';
import type { Intent } from '../generated/prisma/client';
import type { intentWorkflow } from '../workflows';
import { cancelIntentUpdate, submitDecisionUpdate } from '../workflows/messages';
import type { ApiDependencies } from './dependencies';
import { notFound, Problem } from './problems';

/** Bytes of the Web UI summary (the server refuses a start whose summary is over its limit, 400 bytes by default). */
const MAX_SUMMARY_BYTES = 240;

export interface Submitted {
  intent: Intent;
  /** True when an Idempotency-Key matched an earlier request: nothing new was started. */
  replayed: boolean;
}

/**
 * Records the intent and starts its workflow. With an Idempotency-Key, a repeated request
 * returns the first intent; the workflow start is idempotent too (same id, no duplicate run).
 */
export async function submitIntent(
  deps: ApiDependencies,
  request: SubmitIntentRequest,
  idempotencyKey?: string,
): Promise<Submitted> {
  const requestHash = createHash('sha256')
    .update(JSON.stringify([request.tenant, request.text, request.failurePolicy ?? null]))
    .digest('hex');
  if (idempotencyKey) {
    const earlier = await findByKey(deps, request.tenant, idempotencyKey, requestHash);
    if (earlier) return { intent: earlier, replayed: true };
  }
  const id = randomUUID();
  let intent: Intent;
  try {
    intent = await deps.db.intent.create({
      data: {
        id,
        tenant: request.tenant,
        text: request.text,
        workflowId: intentWorkflowId(id),
        idempotencyKey,
        requestHash,
      },
    });
  } catch (error) {
    // A concurrent request with the same key won the race; answer as its replay.
    const earlier = idempotencyKey && (await findByKey(deps, request.tenant, idempotencyKey, requestHash));
    if (earlier) return { intent: earlier, replayed: true };
    throw error;
  }
  try {
    const runId = await startIntentWorkflow(deps, intent, request.failurePolicy);
    return { intent: await deps.db.intent.update({ where: { id }, data: { runId } }), replayed: false };
  } catch (error) {
    // Not accepted, so leave nothing behind: the client sees an error and may retry with the same key.
    await deps.db.intent.delete({ where: { id } });
    throw new Problem(
      503,
      'Orchestrator unavailable',
      `could not start the intent workflow: ${(error as Error).message}`,
    );
  }
}

async function findByKey(deps: ApiDependencies, tenant: string, idempotencyKey: string, requestHash: string) {
  const earlier = await deps.db.intent.findUnique({ where: { tenant_idempotencyKey: { tenant, idempotencyKey } } });
  if (earlier && earlier.requestHash !== requestHash) {
    throw new Problem(
      422,
      'Idempotency key reused',
      'this Idempotency-Key was already used with a different request body',
      [{ field: 'header.idempotency-key', reason: 'already used with a different request body' }],
    );
  }
  return earlier;
}

async function startIntentWorkflow(
  deps: ApiDependencies,
  intent: Intent,
  failurePolicy = deps.config.dag.failurePolicy,
): Promise<string | null> {
  const { config } = deps;
  try {
    const handle = await deps.temporal.workflow.start<typeof intentWorkflow>('intentWorkflow', {
      taskQueue: config.temporal.taskQueue,
      workflowId: intent.workflowId,
      // A second start for the same intent joins the first run; a finished one is never re-run.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [
        {
          intentId: intent.id,
          text: intent.text,
          tenant: intent.tenant,
          policy: {
            gateTimeout: config.gate.timeout,
            autoApprove: config.gate.autoApprove,
            maxConcurrency: config.dag.maxConcurrency,
            maxPlanTasks: config.dag.maxPlanTasks,
            failurePolicy,
            budget: config.llm.budget,
            validation: { thresholds: config.validation.thresholds, frameworks: config.validation.frameworks },
          },
        },
      ],
      typedSearchAttributes: [
        { key: QlpStatus, value: 'RECEIVED' },
        { key: QlpTenant, value: intent.tenant },
      ],
      // The Web UI renders both as markdown: the text a person typed is escaped to show as typed.
      staticSummary: `Intent: ${markdownLiteral(intent.text, MAX_SUMMARY_BYTES)}`,
      staticDetails: `Tenant \`${intent.tenant}\`, intent id \`${intent.id}\``,
    });
    return handle.firstExecutionRunId;
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return null;
    throw error;
  }
}

/** Sends an approve/reject decision through the validated `submitDecision` update. */
export async function decideIntent(
  deps: ApiDependencies,
  intentId: string,
  input: DecisionInput,
): Promise<DecisionRecord> {
  const intent = await deps.db.intent.findUnique({ where: { id: intentId } });
  if (!intent) throw notFound(`intent ${intentId}`);
  const notAwaiting = (detail: string) => new Problem(409, 'Not awaiting a decision', detail);
  try {
    return await executeUpdate(deps.temporal.workflow.getHandle(intent.workflowId), submitDecisionUpdate, [input]);
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      if (error.cause.type === 'NotAwaitingDecision') throw notAwaiting(error.cause.message);
      if (error.cause.type === 'InvalidDecision') throw new Problem(400, 'Invalid request', error.cause.message);
    }
    if (error instanceof WorkflowNotFoundError || (error as { code?: number }).code === 5) {
      throw notAwaiting(`intent is ${intent.status}, not awaiting a decision`);
    }
    throw error;
  }
}

/** Cancels a running intent through the validated `cancelIntent` update (409 once it is finishing or finished). */
export async function cancelIntent(deps: ApiDependencies, intentId: string, request: CancelRequest): Promise<void> {
  const intent = await deps.db.intent.findUnique({ where: { id: intentId } });
  if (!intent) throw notFound(`intent ${intentId}`);
  const handle = deps.temporal.workflow.getHandle(intent.workflowId);
  try {
    // The update records who and why (and stops the work at once); the cancel request then makes
    // Temporal itself show the run as Canceled, as a cancel from the Web UI would.
    await executeUpdate(handle, cancelIntentUpdate, [request]);
    await handle.cancel();
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      if (error.cause.type === 'InvalidCancelRequest') throw new Problem(400, 'Invalid request', error.cause.message);
      throw new Problem(409, 'Not cancellable', error.cause.message);
    }
    if (error instanceof WorkflowNotFoundError || (error as { code?: number }).code === 5) {
      throw new Problem(409, 'Not cancellable', `intent is ${intent.status}; it can no longer be cancelled`);
    }
    throw error;
  }
}
