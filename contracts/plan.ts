export const taskTypes = ['codegen', 'test', 'infra', 'analyze', 'doc'] as const;
export type TaskType = (typeof taskTypes)[number];

export interface PlannedTask {
  id: string;
  type: TaskType;
  description: string;
  dependencies: string[];
  /** Higher runs first among tasks that are ready at the same time. */
  priority: number;
}

export interface Plan {
  /** Which planner produced it, so nobody mistakes a deterministic plan for an LLM's. */
  planner: string;
  /** Short machine-friendly name for the project, used for file and capsule names. */
  projectName: string;
  tasks: PlannedTask[];
}
