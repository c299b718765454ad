import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DecisionInput, DecisionRecord } from '../contracts/decision';
import type { CancelRequest } from '../contracts/intent';
import type { IntentState } from '../contracts/state';

// These names are the public contract ops teams type into the Web UI and the temporal CLI.

/** Approve or reject at the gate. Fire-and-forget: the Web UI's "Send signal" uses this. */
export const decisionSignal = defineSignal<[DecisionInput]>('decision');

/** Approve or reject at the gate, validated: rejected when the intent is not awaiting a decision. */
export const submitDecisionUpdate = defineUpdate<DecisionRecord, [DecisionInput]>('submitDecision');

/** The intent as the workflow sees it now: status, tasks, validation, gate, capsule. */
export const statusQuery = defineQuery<IntentState>('status');

/** Cancel the intent: running tasks and their activities are cancelled; no capsule is produced. */
export const cancelIntentUpdate = defineUpdate<{ status: string }, [CancelRequest]>('cancelIntent');
