import type { GateState } from '../contracts/decision';
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
