import type { Response } from 'express';
import type { GateState } from '../contracts/decision';
import { can, type Principal, type Role } from '../contracts/identity';
import { authorize, principalOf, tenantScope } from './auth/guard';
import { intentWorkflowId } from '../contracts/intent';
import { statusQuery } from '../workflows/messages';
import type { ApiDependencies } from './dependencies';

/** The gate as the workflow holds it now (the read model may lag by a write); undefined if it cannot be asked. */
export async function queryGate(deps: ApiDependencies, intentId: string): Promise<GateState | undefined> {
  try {
    const state = await deps.temporal.workflow.getHandle(intentWorkflowId(intentId)).query(statusQuery);
    return state.gate;
  } catch {
    return undefined;
  }
}

/**
 * The caller, if they may decide this intent's open gate: an approver, or a role the gate's escalation
 * widened it to (the gate lists who may decide). Anything else is the usual 403; the workflow checks again.
 */
export async function authorizeDecision(deps: ApiDependencies, res: Response, intentId: string): Promise<Principal> {
  const principal = principalOf(res);
  if (can(principal, 'intent:decide')) return principal;
  const intent = await deps.db.intent.findFirst({
    where: { id: intentId, ...tenantScope(principal) },
    select: { gate: true },
  });
  const gate = intent?.gate as GateState | null | undefined;
  if (gate?.state === 'open' && gate.roles?.some((role) => principal.roles.includes(role as Role))) return principal;
  return authorize(res, 'intent:decide');
}
