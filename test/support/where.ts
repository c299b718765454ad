import { call } from './api';
import { eventually, PATIENCE_MS, type TestStack } from './stack';

/** Where an intent stands (status, tasks, pending activities and their last failure), for a timeout's message. */
export async function whereItStands(stack: TestStack, id: string): Promise<string> {
  const view = (await call(`${stack.apiUrl}/intents/${id}`)).body;
  const description = await stack.temporal.workflow.getHandle(view.workflowId).describe();
  const pending = (description.raw.pendingActivities ?? []).map(
    (a) =>
      `${a.activityType?.name} attempt ${a.attempt} state ${a.state} last failure ${a.lastFailure?.message ?? '-'}`,
  );
  const tasks = JSON.stringify(view.tasks?.map((t: { id: string; status: string }) => [t.id, t.status]));
  return `${view.status}, tasks ${tasks}, pending activities [${pending.join('; ')}], children ${description.raw.pendingChildren?.length ?? 0}`;
}

/** Waits for the intent to reach one of `statuses`; if it never does, the error says where it stood. */
export async function untilStatus<T = Record<string, unknown>>(
  stack: TestStack,
  id: string,
  statuses: string[],
  timeoutMs = PATIENCE_MS,
): Promise<T> {
  try {
    return await eventually(
      async () => {
        const view = (await call(`${stack.apiUrl}/intents/${id}`)).body;
        return statuses.includes(view.status) ? (view as T) : undefined;
      },
      `intent ${id} to reach ${statuses.join('/')}`,
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; it stood at: ${await whereItStands(stack, id)}`);
  }
}
