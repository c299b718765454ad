import { createHash, randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure, type Duration } from '@temporalio/common';
import { executeUpdate } from '../adapters/temporal/updates';
import { appendAuditEvent } from '../adapters/db/audit';
import { tenantPolicy, type TenantPolicy } from '../config/security';
import { signDecision, type DecisionClaims } from '../contracts/approval';
import type { DecisionRecord, DecisionRequest, GateState } from '../contracts/decision';
import type { DecisionTokenView } from '../contracts/views';
import type { Principal } from '../contracts/identity';
import { intentWorkflowId, type CancelRequest, type SubmitIntentRequest } from '../contracts/intent';
import { QlpStatus, QlpTenant } from '../contracts/search-attributes';
import { markdownLiteral } from '../contracts/text';
import type { Intent } from '../generated/prisma/client';
import type { GateEscalation, PlanGatePolicy } from '../contracts/workflow';
import type { intentWorkflow } from '../workflows';
import { cancelIntentUpdate, submitDecisionUpdate } from '../workflows/messages';
import { tenantScope } from './auth/guard';
import type { ApiDependencies } from './dependencies';
import { admitSubmission } from './quotas';
import { notFound, Problem } from './problems';

/** Bytes of the Web UI summary (the server refuses a start whose summary is over its limit, 400 bytes by default). */
const MAX_SUMMARY_BYTES = 240;

export interface Submitted {
  intent: Intent;
  /** True when an Idempotency-Key matched an earlier request: nothing new was started. */
  replayed: boolean;
}

/**
 * Records the intent, then starts its workflow (id derived from the intent's: a second start joins the
 * first run). With an Idempotency-Key the row is the key's reservation: a repeated or concurrent request
 * finds it and is answered only once the run is confirmed (`runId` set), pointing at that intent. An
 * intent whose start failed is withdrawn (row and key) only while no request has confirmed its run, so
 * a 202 never names an intent that is then deleted; a run left without its row stops itself at its
 * first read-model write (IntentNotRecorded).
 */
export async function submitIntent(
  deps: ApiDependencies,
  principal: Principal,
  request: SubmitIntentRequest,
  idempotencyKey?: string,
): Promise<Submitted> {
  const tenant = submissionTenant(principal, request.tenant);
  const requestHash = createHash('sha256')
    .update(
      JSON.stringify([
        tenant,
        request.text,
        request.failurePolicy ?? null,
        ...(request.tags ? [request.tags] : []),
        ...(request.reuse ? [{ reuse: true }] : []),
      ]),
    )
    .digest('hex');
  if (idempotencyKey) {
    const earlier = await findByKey(deps, tenant, idempotencyKey, requestHash);
    if (earlier) return { intent: await confirmStarted(deps, earlier, principal, request), replayed: true };
  }
  const id = randomUUID();
  let intent: Intent;
  try {
    intent = await deps.db.$transaction(async (tx) => {
      await admitSubmission(deps, tx, tenant, principal);
      return tx.intent.create({
        data: {
          id,
          tenant,
          text: request.text,
          workflowId: intentWorkflowId(id),
          idempotencyKey,
          requestHash,
          submittedBy: principal.subject,
        },
      });
    });
  } catch (error) {
    if (error instanceof Problem) throw error;
    // A concurrent request with the same key won the race; answer as its replay, once its run is confirmed.
    const earlier = idempotencyKey && (await findByKey(deps, tenant, idempotencyKey, requestHash));
    if (earlier) return { intent: await confirmStarted(deps, earlier, principal, request), replayed: true };
    throw error;
  }
  let runId: string;
  try {
    runId = await startIntentWorkflow(deps, intent, principal, request);
  } catch (error) {
    const confirmed = await withdrawUnconfirmed(deps, intent);
    if (confirmed) return { intent: confirmed, replayed: false };
    throw unavailable(error);
  }
  return { intent: await recordRun(deps, intent, runId), replayed: false };
}

const unavailable = (error: unknown) =>
  new Problem(503, 'Orchestrator unavailable', `could not start the intent workflow: ${(error as Error).message}`);

/** A replay: the earlier intent once its run is confirmed; an unconfirmed one is started (joining any run) first. */
async function confirmStarted(
  deps: ApiDependencies,
  intent: Intent,
  principal: Principal,
  request: SubmitIntentRequest,
): Promise<Intent> {
  if (intent.runId) return intent;
  // Started only as its own submitter: the run's input names who submitted it (separation of duties).
  if (intent.submittedBy && intent.submittedBy !== principal.subject)
    throw unavailable(new Error('the first request with this Idempotency-Key is still being started; retry'));
  let runId: string;
  try {
    runId = await startIntentWorkflow(deps, intent, principal, request);
  } catch (error) {
    throw unavailable(error);
  }
  return recordRun(deps, intent, runId);
}

/** Confirms the run on the row; a row withdrawn meanwhile means no intent to point at (the run stops by itself). */
async function recordRun(deps: ApiDependencies, intent: Intent, runId: string): Promise<Intent> {
  // Only the first confirmation writes: a later read-model write may already have moved runId on (a reset).
  await deps.db.intent.updateMany({ where: { id: intent.id, runId: null }, data: { runId } });
  const row = await deps.db.intent.findUnique({ where: { id: intent.id } });
  if (!row) throw unavailable(new Error('the submission was withdrawn while it was being started; send it again'));
  return row;
}

/**
 * The start failed, though it may have happened (a timeout): a run Temporal knows of is confirmed and
 * kept; otherwise the row (and its key) is withdrawn, under a row lock, unless a replay confirmed the run
 * meanwhile. Returns the intent when it stays.
 */
async function withdrawUnconfirmed(deps: ApiDependencies, intent: Intent): Promise<Intent | undefined> {
  const runId = await existingRunId(deps, intent.workflowId);
  if (runId) return recordRun(deps, intent, runId).catch(() => undefined);
  return deps.db.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ runId: string | null }[]>`
      SELECT run_id AS "runId" FROM intents WHERE id = ${intent.id}::uuid FOR UPDATE`;
    if (row?.runId) return tx.intent.findUnique({ where: { id: intent.id } }).then((found) => found ?? undefined);
    await tx.intent.deleteMany({ where: { id: intent.id } });
    return undefined;
  });
}

/** The run id of the workflow when Temporal has it; undefined when it does not, or cannot say. */
async function existingRunId(deps: ApiDependencies, workflowId: string): Promise<string | undefined> {
  try {
    return (await deps.temporal.workflow.getHandle(workflowId).describe()).runId;
  } catch {
    return undefined;
  }
}

/** The tenant a submission goes to: the one named (which must be the caller's), or the caller's only one. */
function submissionTenant(principal: Principal, named: string | undefined): string {
  if (named !== undefined) {
    if (!principal.tenants.includes(named)) {
      throw new Problem(403, 'Forbidden', `you are not a member of tenant ${named}`, [
        { field: 'body.tenant', reason: 'is not one of your tenants' },
      ]);
    }
    return named;
  }
  if (principal.tenants.length === 1) return principal.tenants[0]!;
  throw new Problem(400, 'Invalid request', 'body.tenant is required: you belong to several tenants', [
    { field: 'body.tenant', reason: `is required: one of ${principal.tenants.join(', ')}` },
  ]);
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

/** The tenant's escalation ladder, when it has one (the gate's timeout alone otherwise). */
function escalationOf(policy: TenantPolicy): { escalation?: GateEscalation } {
  const { gateRemindAfter, gateEscalateAfter, gateEscalateTo, gateEscalateRole, gateOnTimeout } = policy;
  if (!gateRemindAfter && !gateEscalateAfter && gateOnTimeout === 'reject') return {};
  return {
    escalation: {
      ...(gateRemindAfter && { remindAfter: gateRemindAfter as Duration }),
      ...(gateEscalateAfter && { escalateAfter: gateEscalateAfter as Duration }),
      ...(gateEscalateTo && { escalateTo: gateEscalateTo }),
      ...(gateEscalateRole && { escalateRole: gateEscalateRole }),
      onTimeout: gateOnTimeout,
    },
  };
}

/** When the plan gate opens: the tenant's setting, or always when the submission asks for a plan review. */
function planGateOf(policy: TenantPolicy, planReview: boolean | undefined): { planGate?: PlanGatePolicy } {
  if (planReview || policy.planGate === 'always') return { planGate: { always: true } };
  if (policy.planGate === 'auto')
    return { planGate: { always: false, minTasks: policy.planGateMinTasks, onInfra: true } };
  return {};
}

async function startIntentWorkflow(
  deps: ApiDependencies,
  intent: Intent,
  principal: Principal,
  { failurePolicy = deps.config.dag.failurePolicy, tags, reuse, planReview }: SubmitIntentRequest,
): Promise<string> {
  const { config } = deps;
  const tenant = tenantPolicy(config.security, intent.tenant);
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
            budget: {
              ...config.llm.budget,
              ...(tenant.llmTokensPerDay > 0 && {
                tenantDaily: { tenant: intent.tenant, maxTokens: tenant.llmTokensPerDay },
              }),
            },
            validation: { thresholds: config.validation.thresholds, frameworks: config.validation.frameworks },
            approval: {
              required: tenant.approvalsRequired,
              allowSelfApproval: tenant.allowSelfApproval,
              unauthenticatedSignals: config.security.unsignedSignals,
              publicKeys: [deps.signingKey.publicKeyHex],
              ...escalationOf(tenant),
            },
            ...planGateOf(tenant, planReview),
            maxVersions: tenant.maxVersions,
            repairRounds: config.gate.repairRounds,
          },
          submittedBy: { subject: principal.subject, name: principal.name },
          ...(tags && { tags }),
          ...(reuse && { reuse: true }),
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
    // Finished already (the reuse policy refuses a second run): it was started, by an earlier request.
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      const runId = await existingRunId(deps, intent.workflowId);
      if (runId) return runId;
    }
    throw error;
  }
}

/** The refusals a gate reports, as HTTP: who may not (403), what is stale or closed (409), what is wrong (400). */
const refusalStatus: Record<string, [number, string]> = {
  NotAwaitingDecision: [409, 'Not awaiting a decision'],
  AlreadyDecided: [409, 'Already decided'],
  StaleDigest: [409, 'Stale review digest'],
  SelfApproval: [403, 'Separation of duties'],
  Forbidden: [403, 'Forbidden'],
  Unauthenticated: [401, 'Unauthorized'],
  InvalidDecision: [400, 'Invalid request'],
  RevisionLimit: [409, 'No more versions'],
};

/** A decision by the authenticated approver, signed for the gate to verify; the approver never comes from the body. */
export function signedDecision(
  deps: ApiDependencies,
  principal: Principal,
  intentId: string,
  request: DecisionRequest,
  gate?: GateState['id'],
) {
  const issuedAt = new Date();
  const expiresAt = new Date(issuedAt.getTime() + msOf(String(deps.config.security.tokenTtl)));
  const claims: DecisionClaims = {
    v: 1,
    intentId,
    decision: request.decision,
    ...(request.reason && { reason: request.reason }),
    ...(gate && { gate }),
    ...(request.changes && { changes: request.changes }),
    ...(request.planEdit && { planEdit: request.planEdit }),
    digest: request.digest,
    principal: {
      subject: principal.subject,
      name: principal.name,
      roles: principal.roles,
      tenants: principal.tenants,
      method: principal.method,
    },
    issuedAt: issuedAt.toISOString(),
    expiresAt: expiresAt.toISOString(),
  };
  return { token: signDecision(claims, deps.signingKey.privateKey), expiresAt };
}

/** Sends an approve/reject decision through the validated `submitDecision` update, signed for the caller. */
export async function decideIntent(
  deps: ApiDependencies,
  principal: Principal,
  intentId: string,
  request: DecisionRequest,
): Promise<DecisionRecord> {
  const intent = await deps.db.intent.findFirst({ where: { id: intentId, ...tenantScope(principal) } });
  if (!intent) throw notFound(`intent ${intentId}`);
  // Intents submitted before identities existed take the plain decision their gate understands.
  const gate = (intent.gate as GateState | null)?.id;
  const message = intent.submittedBy
    ? { token: signedDecision(deps, principal, intentId, request, gate).token }
    : {
        decision: request.decision,
        approver: principal.name,
        ...(request.reason && { reason: request.reason }),
        ...(request.changes && { changes: request.changes }),
      };
  try {
    return await executeUpdate(deps.temporal.workflow.getHandle(intent.workflowId), submitDecisionUpdate, [message]);
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      const [status, title] = refusalStatus[error.cause.type ?? ''] ?? [409, 'Decision refused'];
      await auditRefusal(deps, intent, principal, request, error.cause.type ?? 'refused', error.cause.message);
      throw new Problem(status, title, error.cause.message);
    }
    if (error instanceof WorkflowNotFoundError || (error as { code?: number }).code === 5) {
      const detail = `intent is ${intent.status}, not awaiting a decision`;
      await auditRefusal(deps, intent, principal, request, 'NotAwaitingDecision', detail);
      throw new Problem(409, 'Not awaiting a decision', detail);
    }
    throw error;
  }
}

/**
 * A signed decision for the `decision` signal (temporal CLI), for ops who act there. The gate checks it
 * as it checks the API's own: so a token is refused early here when the gate is closed or the digest stale.
 */
export async function decisionToken(
  deps: ApiDependencies,
  principal: Principal,
  intentId: string,
  request: DecisionRequest,
): Promise<DecisionTokenView> {
  const intent = await deps.db.intent.findFirst({ where: { id: intentId, ...tenantScope(principal) } });
  if (!intent) throw notFound(`intent ${intentId}`);
  if (!intent.submittedBy) {
    throw new Problem(409, 'Not signed', 'this intent was submitted before signed decisions: send a plain decision');
  }
  const gate = intent.gate as GateState | null;
  if (intent.status !== 'AWAITING_APPROVAL' || gate?.state !== 'open') {
    throw new Problem(409, 'Not awaiting a decision', `intent is ${intent.status}, not awaiting a decision`);
  }
  if (gate.digest && gate.digest !== request.digest) {
    throw new Problem(409, 'Stale review digest', `what is under review now is ${gate.digest}, not ${request.digest}`);
  }
  // The gate would ignore it: say so now rather than hand out a token that silently does nothing.
  if (request.decision === 'approve' && intent.submittedBy === principal.subject && gate.selfApproval === false) {
    throw new Problem(403, 'Separation of duties', `${principal.name} submitted this intent and may not approve it`);
  }
  const { token, expiresAt } = signedDecision(deps, principal, intentId, request, gate.id);
  const input = JSON.stringify({ token }).replace(/'/g, "'\\''");
  return {
    intentId,
    workflowId: intent.workflowId,
    token,
    expiresAt: expiresAt.toISOString(),
    command: `temporal workflow signal --workflow-id ${intent.workflowId} --name decision --input '${input}'`,
  };
}

/** A decision the gate refused goes into the intent's audit trail: who tried what, and why it was refused. */
async function auditRefusal(
  deps: ApiDependencies,
  intent: Intent,
  principal: Principal,
  request: DecisionRequest,
  type: string,
  message: string,
): Promise<void> {
  await appendAuditEvent(deps.db, {
    eventKey: `decision-refused:${randomUUID()}`,
    tenant: intent.tenant,
    intentId: intent.id,
    type: 'intent.decision_refused',
    actor: principal.subject,
    data: { name: principal.name, decision: request.decision, digest: request.digest, refusal: type, reason: message },
  });
}

/** Cancels a running intent through the validated `cancelIntent` update (409 once it is finishing or finished). */
export async function cancelIntent(
  deps: ApiDependencies,
  principal: Principal,
  intentId: string,
  request: CancelRequest,
): Promise<void> {
  const intent = await deps.db.intent.findFirst({ where: { id: intentId, ...tenantScope(principal) } });
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

/** A token TTL (`90s`, `15m`, `2h`) in milliseconds. */
function msOf(ttl: string): number {
  const [, n, unit] = /^(\d+)(s|m|h)$/.exec(ttl) ?? [];
  return Number(n) * { s: 1000, m: 60_000, h: 3_600_000 }[unit as 's' | 'm' | 'h'];
}
