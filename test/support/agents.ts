import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Activities, Planner } from '../../activities';
import type { PlannedTask, TaskType } from '../../contracts/plan';

/** Plans chosen by intent text, so a test picks its graph. Non-code task types keep their files apart. */
export function fixedPlanner(plans: Map<string, PlannedTask[]>): Planner {
  return ({ text }) => {
    const tasks = plans.get(text);
    if (!tasks) throw ApplicationFailure.nonRetryable(`no test plan for ${text}`);
    return { planner: 'test-fixed', projectName: 'dag-test', tasks };
  };
}

export const task = (
  id: string,
  dependencies: string[] = [],
  type: TaskType = 'analyze',
  priority = 0,
): PlannedTask => ({
  id,
  type,
  description: `task ${id}`,
  dependencies,
  priority,
});

export interface AgentEvent {
  task: string;
  event: 'start' | 'end' | 'cancelled';
  at: number;
}

export type AgentBehaviour = Record<
  string,
  {
    latencyMs?: number;
    fail?: 'permanent' | 'transient';
    /** Keeps running until these tasks have started too: concurrency shown by events, not by machine speed. */
    untilStarted?: string[];
  }
>;

/**
 * Wraps the real agent activity so chosen tasks take longer or fail, recording when each ran.
 * Latency heartbeats like a real agent would, so cancellation reaches it.
 */
export function instrumentAgents(behaviour: AgentBehaviour, events: AgentEvent[]) {
  return (activities: Activities): Activities => ({
    ...activities,
    runAgent: async (input) => {
      const id = input.task.id;
      const { latencyMs = 0, fail, untilStarted = [] } = behaviour[id] ?? {};
      events.push({ task: id, event: 'start', at: Date.now() });
      const othersStarted = () => untilStarted.every((t) => events.some((e) => e.task === t && e.event === 'start'));
      try {
        const ctx = Context.current();
        for (const end = Date.now() + latencyMs; Date.now() < end || !othersStarted();) {
          ctx.heartbeat();
          await ctx.sleep(Math.max(10, Math.min(100, end - Date.now())));
        }
      } catch (error) {
        events.push({ task: id, event: 'cancelled', at: Date.now() });
        throw error;
      }
      if (fail === 'permanent') throw ApplicationFailure.nonRetryable(`${id} cannot be generated`, 'AgentFailed');
      if (fail === 'transient') throw ApplicationFailure.retryable(`${id} hit a transient error`);
      const result = await activities.runAgent(input);
      events.push({ task: id, event: 'end', at: Date.now() });
      return result;
    },
  });
}
