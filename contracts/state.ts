import { z } from 'zod';
import type { CapsuleRef } from './artifacts';
import type { GateState } from './decision';
import type { IntentStatus } from './intent';
import type { Plan, TaskType } from './plan';
import type { LlmUsage } from './usage';
import type { ValidationSummary } from './validation';

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
  capsule?: CapsuleRef;
  /** LLM usage so far, summed from what planning and agents reported. */
  usage?: LlmUsage;
}

/** One step of the read model, written by the workflow through an idempotent activity. */
export interface IntentProjection {
  intentId: string;
  /** Increases with every step; the database ignores an update older than what it holds. */
  seq: number;
  status: IntentStatus;
  reason?: string;
  plan?: Plan;
  validation?: ValidationSummary;
  gate?: GateState;
  capsule?: CapsuleRef;
  audit: { type: string; actor: string; data?: Record<string, unknown> };
}

export interface TaskProjection {
  intentId: string;
  taskId: string;
  seq: number;
  state: TaskState;
  attempt?: number;
  artifact?: { manifestKey: string; fileCount: number };
  error?: string;
}
