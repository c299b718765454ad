/** What the benches read from event histories: round trips, workflow task durations, activity executions. */
import type { Client } from '@temporalio/client';
import type { temporal as proto } from '@temporalio/proto';

type HistoryEvent = proto.api.history.v1.IHistoryEvent;

export interface WorkflowHistory {
  workflowId: string;
  events: HistoryEvent[];
}

/** Event time in ms since the epoch (the server's clock). */
export function eventMs(event: HistoryEvent): number {
  const t = event.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : NaN;
}

/** The history of a workflow and of every child it started, recursively. */
export async function fetchTree(temporal: Client, workflowId: string): Promise<WorkflowHistory[]> {
  const out: WorkflowHistory[] = [];
  const ids = [workflowId];
  for (let i = 0; i < ids.length; i++) {
    const history = await temporal.workflow.getHandle(ids[i]!).fetchHistory();
    const events = history.events ?? [];
    out.push({ workflowId: ids[i]!, events });
    for (const event of events) {
      const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
      if (child) ids.push(child);
    }
  }
  return out;
}

/** fetchTree over many workflows, `concurrency` at a time. */
export async function fetchTrees(temporal: Client, workflowIds: string[], concurrency = 8): Promise<WorkflowHistory[]> {
  const out: WorkflowHistory[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < workflowIds.length) out.push(...(await fetchTree(temporal, workflowIds[next++]!)));
    }),
  );
  return out;
}

/** How many server round trips one intent costs: workflow tasks and activity tasks, parent and children. */
export function roundTrips(histories: WorkflowHistory[]) {
  const count = { workflowTasks: 0, activityTasks: 0, localActivities: 0, children: 0, events: 0 };
  for (const { events } of histories) {
    for (const event of events) {
      count.events++;
      if (event.workflowTaskCompletedEventAttributes) count.workflowTasks++;
      if (event.activityTaskScheduledEventAttributes) count.activityTasks++;
      if (event.markerRecordedEventAttributes) count.localActivities++;
      if (event.childWorkflowExecutionStartedEventAttributes) count.children++;
    }
  }
  return count;
}

export interface WorkflowTaskTiming {
  workflowId: string;
  /** WorkflowTaskStarted → Completed/Failed/TimedOut: the worker's time on the task, local activities included. */
  runMs: number;
  /** WorkflowTaskScheduled → Started: time on the queue. */
  queueMs: number;
  outcome: 'completed' | 'failed' | 'timedOut';
  /** When the task was started (server clock, ms since the epoch). */
  startedMs: number;
  /** Why a failed or timed-out task did not complete (its cause or timeout type). */
  cause?: string;
}

/** Every workflow task of the histories, with its run and queue time from the event times. */
export function workflowTasks(histories: WorkflowHistory[]): WorkflowTaskTiming[] {
  const out: WorkflowTaskTiming[] = [];
  for (const { workflowId, events } of histories) {
    const byId = new Map(events.map((e) => [Number(e.eventId), e]));
    for (const event of events) {
      const closed =
        (event.workflowTaskCompletedEventAttributes &&
          (['completed', event.workflowTaskCompletedEventAttributes] as const)) ||
        (event.workflowTaskFailedEventAttributes && (['failed', event.workflowTaskFailedEventAttributes] as const)) ||
        (event.workflowTaskTimedOutEventAttributes &&
          (['timedOut', event.workflowTaskTimedOutEventAttributes] as const));
      if (!closed) continue;
      const [outcome, attributes] = closed;
      const started = byId.get(Number(attributes.startedEventId));
      const scheduled = byId.get(Number(attributes.scheduledEventId));
      if (!started || !scheduled) continue;
      out.push({
        workflowId,
        runMs: eventMs(event) - eventMs(started),
        queueMs: eventMs(started) - eventMs(scheduled),
        outcome,
        startedMs: eventMs(started),
        ...(outcome === 'failed' && { cause: String(event.workflowTaskFailedEventAttributes?.cause) }),
        ...(outcome === 'timedOut' && {
          cause: `timeout type ${String(event.workflowTaskTimedOutEventAttributes?.timeoutType)}`,
        }),
      });
    }
  }
  return out;
}

export interface ActivityExecution {
  workflowId: string;
  activityId: string;
  type: string;
  scheduledMs: number;
  /** Attempt and time of the last start (the server records one Started event, at the close). */
  attempt?: number;
  startedMs?: number;
  closedMs?: number;
  outcome?: 'completed' | 'failed' | 'timedOut' | 'canceled';
}

/** Activities of the histories by scheduled event: type, attempt of the last start, how it closed. */
export function activities(histories: WorkflowHistory[]): ActivityExecution[] {
  const out: ActivityExecution[] = [];
  for (const { workflowId, events } of histories) {
    const byScheduled = new Map<number, ActivityExecution>();
    for (const event of events) {
      const id = Number(event.eventId);
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) {
        const execution: ActivityExecution = {
          workflowId,
          activityId: scheduled.activityId ?? '',
          type: scheduled.activityType?.name ?? '',
          scheduledMs: eventMs(event),
        };
        byScheduled.set(id, execution);
        out.push(execution);
        continue;
      }
      const started = event.activityTaskStartedEventAttributes;
      if (started) {
        const execution = byScheduled.get(Number(started.scheduledEventId));
        if (execution) Object.assign(execution, { attempt: started.attempt ?? undefined, startedMs: eventMs(event) });
        continue;
      }
      const closes = [
        ['completed', event.activityTaskCompletedEventAttributes],
        ['failed', event.activityTaskFailedEventAttributes],
        ['timedOut', event.activityTaskTimedOutEventAttributes],
        ['canceled', event.activityTaskCanceledEventAttributes],
      ] as const;
      for (const [outcome, attributes] of closes) {
        if (!attributes) continue;
        const execution = byScheduled.get(Number(attributes.scheduledEventId));
        if (execution) Object.assign(execution, { outcome, closedMs: eventMs(event) });
      }
    }
  }
  return out;
}
