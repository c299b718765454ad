import { WorkflowNotFoundError } from '@temporalio/client';
import { createApiKey } from '../../adapters/identity/api-keys';
import type { Role } from '../../contracts/identity';
import { call, type ApiResponse } from './api';
import { eventually, type TestStack } from './stack';

// Shared by the authorisation tests (test/authz-*.test.ts): keys, submissions and waits through the API.

/** An intent the offline catalogue plans and builds; it reaches AWAITING_APPROVAL in ~10–60 s. */
export const INTENT_TEXT = 'A library module for invoices with amount and due date';

/** A tenant name no other test uses, so its intents, keys and quotas are this file's alone. */
export function uniqueTenant(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2, 10)}`;
}

export interface TestKey {
  id: string;
  key: string;
  name: string;
}

/** A real API key (as `qlp keys create` makes one), written straight to the database. */
export async function newKey(
  stack: TestStack,
  tenant: string,
  name: string,
  roles: Role[],
  expiresAt?: Date,
): Promise<TestKey> {
  const unique = `${name}-${Math.random().toString(36).slice(2, 8)}`;
  const created = await createApiKey(stack.db, { name: unique, tenant, roles, createdBy: 'test', expiresAt });
  return { id: created.record.id, key: created.key, name: unique };
}

/** Submits an intent as `token`; fails unless the API accepted it (202). */
export async function submitIntent(
  stack: TestStack,
  token: string,
  body: Record<string, unknown> = {},
): Promise<{ id: string; workflowId: string }> {
  const response = await call(`${stack.apiUrl}/intents`, { body: { text: INTENT_TEXT, ...body }, token });
  if (response.status !== 202) {
    throw new Error(`submission refused: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return { id: response.body.id, workflowId: response.body.workflowId };
}

/** Reads the intent (as `token`) until `accept` takes it; returns the last view read. */
export function waitForIntent(
  stack: TestStack,
  id: string,
  token: string,
  accept: (view: any) => boolean,
  what: string,
): Promise<any> {
  return eventually(async () => {
    const { status, body } = await call(`${stack.apiUrl}/intents/${id}`, { token });
    if (status !== 200) throw new Error(`reading intent ${id} answered ${status} ${JSON.stringify(body)}`);
    if (['FAILED', 'CANCELLED'].includes(body.status) && !what.includes(body.status)) {
      throw new Error(`intent ${id} ended ${body.status} (${body.statusReason}) while waiting for ${what}`);
    }
    return accept(body) ? body : undefined;
  }, `intent ${id}: ${what}`);
}

export const waitForStatus = (stack: TestStack, id: string, token: string, status: string) =>
  waitForIntent(stack, id, token, (view) => view.status === status, status);

/** A response in one line, for failure messages: status, title, detail. */
export function summary(response: ApiResponse): string {
  const body = response.body;
  const text = typeof body === 'object' && body !== null ? `${body.title ?? ''}: ${body.detail ?? ''}` : String(body);
  return `${response.status} ${text}`.slice(0, 500);
}

/** Ends every workflow still running on the stack's task queue (intents a test left at the gate). */
export async function terminateRunning(stack: TestStack | undefined, reason: string): Promise<void> {
  if (!stack) return;
  for await (const execution of stack.temporal.workflow.list({
    query: `TaskQueue = "${stack.config.temporal.taskQueue}" AND ExecutionStatus = "Running"`,
  })) {
    await stack.temporal.workflow
      .getHandle(execution.workflowId)
      .terminate(reason)
      .catch((error: unknown) => {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      });
  }
}
