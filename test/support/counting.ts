import type { Activities } from '../../activities';

/** Executions per activity (and per task for agents): how many started, how many completed. */
export class ExecutionCounter {
  readonly started = new Map<string, number>();
  readonly completed = new Map<string, number>();
  /** Awaited before an execution runs; lets a test hold an activity in flight. */
  gate: (name: string) => Promise<void> = async () => undefined;

  /** Wraps the real activities: same behaviour, counted. */
  wrap = (activities: Activities): Activities => {
    const wrapped: Record<string, unknown> = {};
    for (const [name, fn] of Object.entries(activities) as [string, (...args: unknown[]) => Promise<unknown>][]) {
      wrapped[name] = async (...args: unknown[]) => {
        const key = name === 'runAgent' ? `runAgent:${(args[0] as { task: { id: string } }).task.id}` : name;
        bump(this.started, key);
        await this.gate(key);
        const result = await fn(...args);
        bump(this.completed, key);
        return result;
      };
    }
    return wrapped as Activities;
  };
}

function bump(counts: Map<string, number>, key: string) {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
