import type { Duration } from '@temporalio/common';
import type { ArtifactRef, CapsuleRef } from './artifacts';
import type { Budget } from './budget';
import type { FailurePolicy, IntentStatus } from './intent';
import type { PlannedTask } from './plan';
import type { BuiltInFramework, Thresholds } from './validation';

// The typed inputs and outputs of the workflows and of the activities they call: the API starts
// workflows with these, workflows pass them to activities, so a changed field breaks the build.

/** Fixed at submission, so a policy change never alters a running intent. */
export interface IntentPolicy {
  gateTimeout: Duration;
  autoApprove: boolean;
  maxConcurrency: number;
  /** The most tasks a plan may have: the planner is asked for no more, and a larger plan fails the intent. */
  maxPlanTasks: number;
  failurePolicy: FailurePolicy;
  /** LLM spend cap for the whole intent; checked before every LLM activity, and by the ledger.
   *  Absent in intents started before budgets existed: those run unlimited, as they were submitted. */
  budget?: Budget;
  /** Score thresholds and the compliance frameworks that apply (absent before validation layers existed). */
  validation?: { thresholds: Thresholds; frameworks: BuiltInFramework[] };
  /** Who may decide at the gate. Absent in intents started before identities: their gate takes plain decisions. */
  approval?: ApprovalPolicy;
  /** When the plan gate opens before any agent runs (absent: never, as before plan gates existed). */
  planGate?: PlanGatePolicy;
  /** Versions the release gate may ask for with request_changes (v1 included); absent: 1, no changes. */
  maxVersions?: number;
  /** Repair rounds the agents get when layer 2 or the type-check fails (LLM agents only); absent: none. */
  repairRounds?: number;
}

/** The gate's rules, from the tenant's policy at submission. */
export interface ApprovalPolicy {
  /** Distinct approvers (with the approver role) needed; any rejection ends the gate. */
  required: number;
  /** May the submitter approve their own intent? (Separation of duties: no, by default.) */
  allowSelfApproval: boolean;
  /** An unsigned `decision` signal (Web UI, temporal CLI): taken and recorded as unauthenticated, or refused and recorded. */
  unauthenticatedSignals: 'accept' | 'refuse';
  /** ed25519 public keys (hex) of the API instances whose signed decisions the gate accepts. */
  publicKeys: string[];
  /** The tenant's escalation ladder for an undecided gate (absent: the timeout alone). */
  escalation?: GateEscalation;
}

/** `always`; or when the plan has at least `minTasks` tasks or (with `onInfra`) an infra task. */
export interface PlanGatePolicy {
  always: boolean;
  minTasks?: number;
  onInfra?: boolean;
}

/** Remind at T1, escalate at T2, and at the gate timeout reject or cancel: durable timers in the gate. */
export interface GateEscalation {
  remindAfter?: Duration;
  escalateAfter?: Duration;
  /** Who an escalation goes to (a group or address), named in its audit event and webhook. */
  escalateTo?: string;
  /** A role that may also decide once the gate is escalated (e.g. `admin`); absent: only approvers decide. */
  escalateRole?: string;
  onTimeout: 'reject' | 'cancel';
}

/** `intentWorkflow`'s one argument. */
export interface IntentWorkflowInput {
  intentId: string;
  text: string;
  tenant: string;
  policy: IntentPolicy;
  /** Who submitted it (absent before identities existed, and for workflows started outside the API). */
  submittedBy?: { subject: string; name: string };
  /** Labels from the submission, carried into the capsule's metadata. */
  tags?: string[];
  /** Start from a near-identical completed intent's capsule files when there is one (docs/similar-intents.md). */
  reuse?: boolean;
}

/** How an intent ended. */
export interface IntentOutcome {
  status: IntentStatus;
  reason?: string;
  capsule?: CapsuleRef;
}

/** `parseIntent`: intent text → plan. */
export interface ParseIntentInput {
  intentId: string;
  text: string;
  /** The intent's budget (from the workflow's policy); the worker's default when absent. */
  budget?: Budget;
  /** The intent's plan-size limit; the planner's own default when absent (intents started before it existed). */
  maxTasks?: number;
}

/** One task of a plan: `taskWorkflow`'s argument and, unchanged, its `runAgent` activity's. */
export interface TaskInput {
  intentId: string;
  intentText: string;
  projectName: string;
  task: PlannedTask;
  /** Outputs of the task's dependencies, by reference. */
  dependencies: ArtifactRef[];
  /** The intent's budget (from the workflow's policy); the worker's default when absent. */
  budget?: Budget;
  /** A re-run of the task: for changes a reviewer requested, or to repair failing validation. */
  revision?: TaskRevision;
}

/** What a re-run task is given: why, and what it produced before. */
export interface TaskRevision {
  /** `v2`, `r1`, `v2-r1`: names the child workflow and where its output is stored, so no version overwrites another. */
  label: string;
  kind: 'changes' | 'repair';
  /** The reviewer's comments, or the failures to fix (test names, errors, output excerpts). */
  feedback: string;
  /** The task's previous output, by reference. */
  previous: ArtifactRef;
}

/**
 * The task queue of the validation workers that serve an orchestration task queue. Derived, so
 * workflows, workers and tests agree without configuration; scale validation out by starting more
 * workers on it.
 */
export function validationTaskQueue(taskQueue: string): string {
  return `${taskQueue}-validation`;
}
