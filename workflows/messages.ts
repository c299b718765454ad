import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DecisionInput, DecisionRecord, SignedDecision } from '../contracts/decision';
import type { CancelRequest } from '../contracts/intent';
import type { IntentState } from '../contracts/state';

// These names are the public contract ops teams type into the Web UI and the temporal CLI.

/**
 * Approve or reject at the gate. Fire-and-forget: the Web UI's "Send signal" and `temporal workflow
 * signal` use this. It carries a decision token the API signed (`{ "token": "…" }`, from `qlp approve
 * --token`), or — where the deployment allows unsigned ops signals — `{ decision, approver, reason }`.
 */
export const decisionSignal = defineSignal<[SignedDecision | DecisionInput | string]>('decision');

/** Approve or reject at the gate, validated: refused with a reason when the gate does not take it. */
export const submitDecisionUpdate = defineUpdate<DecisionRecord, [SignedDecision | DecisionInput]>('submitDecision');

/** The intent as the workflow sees it now: status, tasks, validation, gate, capsule. */
export const statusQuery = defineQuery<IntentState>('status');

/** Cancel the intent: running tasks and their activities are cancelled; no capsule is produced. */
export const cancelIntentUpdate = defineUpdate<{ status: string }, [CancelRequest]>('cancelIntent');
