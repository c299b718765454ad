import { z } from 'zod';
import type { CapsuleRef } from './artifacts';
import type { GateState, IgnoredDecision } from './decision';
import type { IntentStatus } from './intent';
import type { Plan, TaskType } from './plan';
import type { LlmUsage } from './usage';
import type { ValidationSummary } from './validation';
import type { SimilarIntentsResult } from './similar';

export const TaskState = z.enum(['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']);
export type TaskState = z.infer<typeof TaskState>;

export interface TaskProgress {
  id: string;
  type: TaskType;
  state: TaskState;
  error?: string;
  /** Of the task's agent activity, once it completed: attempts taken and when it ran. */
  attempts?: number;
  startedAt?: string;
  finishedAt?: string;
}

/** What the `status` query returns: the intent as the workflow sees it right now. */
export interface IntentState {
  intentId: string;
  status: IntentStatus;
  reason?: string;
  plan?: Pick<Plan, 'planner' | 'projectName'>;
  tasks: TaskProgress[];
  validation?: ValidationSummary;
  gate?: GateState;
  /** `decision` signals the gate did not take (malformed, or not awaited): the latest few, and how many in all. */
  ignoredDecisions?: { count: number; latest: IgnoredDecision[] };
  capsule?: CapsuleRef;
  /** LLM usage so far, summed from what planning and agents reported. */
  usage?: LlmUsage;
  /** Similar earlier intents of the tenant, found at submission (docs/similar-intents.md). */
  similar?: SimilarIntentsResult;
}

/**
 * Which workflow run wrote a projection, and when (workflow time, deterministic). A reset, a retry from
 * the Web UI or a continue-as-new starts a new run whose `seq` starts again; the database orders writes
 * of the same run by `seq` and writes of different runs by `at`, so the current run's writes win
 * (docs/ARCHITECTURE.md, "Read model consistency").
 */
export interface ProjectionRun {
  /** `workflowInfo().runId` of the writing workflow (the task's own run for task writes). */
  id: string;
  /** Workflow time of the step, ISO 8601. */
  at: string;
  /** How this run began, when it is not the execution's first run. */
  startedBy?: 'reset' | 'continue-as-new';
}

/** One step of the read model, written by the workflow through an idempotent activity. */
export interface IntentProjection {
  intentId: string;
  /** Increases with every step of a run; the database ignores an update older than what it holds. */
  seq: number;
  /** Absent only in writes scheduled by workflow code older than run tracking. */
  run?: ProjectionRun;
  status: IntentStatus;
  reason?: string;
  plan?: Plan;
  /** The run's validation and gate as it sees them now; `null` clears the column, absent leaves it. */
  validation?: ValidationSummary | null;
  gate?: GateState | null;
  capsule?: CapsuleRef;
  audit: { type: string; actor: string; data?: Record<string, unknown> };
}

export interface TaskProjection {
  intentId: string;
  taskId: string;
  seq: number;
  run?: ProjectionRun;
  state: TaskState;
  attempt?: number;
  artifact?: { manifestKey: string; fileCount: number };
  error?: string;
}
