import type { Requirement } from './requirements';
import type { LlmUsage } from './usage';

/** More tasks than this is not a plan a person can review (and costs an agent call each): MAX_PLAN_TASKS's default. */
export const DEFAULT_MAX_PLAN_TASKS = 30;

export const taskTypes = ['codegen', 'test', 'infra', 'analyze', 'doc'] as const;
export type TaskType = (typeof taskTypes)[number];

export interface PlannedTask {
  id: string;
  type: TaskType;
  description: string;
  dependencies: string[];
  /** Higher runs first among tasks that are ready at the same time. */
  priority: number;
  /** Planner-specific details: planned output paths (LLM), catalogue kind and parameters (offline). JSON only. */
  metadata?: Record<string, unknown>;
  /** Ids of the plan's requirements this task implements (absent in plans from before requirements). */
  covers?: string[];
}

export interface Plan {
  /** Which planner produced it, so nobody mistakes a deterministic plan for an LLM's. */
  planner: string;
  /** Short machine-friendly name for the project, used for file and capsule names. */
  projectName: string;
  tasks: PlannedTask[];
  /**
   * What the intent asked for (agents/planning/requirements.ts): validation traces each one to code and
   * to a test that passed. Absent in plans from before requirements.
   */
  requirements?: Requirement[];
  /** 'offline': the deterministic catalogue, no LLM; 'llm': a configured provider. */
  mode?: 'llm' | 'offline';
  /** What planning consumed; the workflow adds it to the intent's spend. */
  usage?: LlmUsage;
}
