import { setTimeout as sleep } from 'node:timers/promises';
import { terminalStatuses } from '../contracts/intent';
import type { ApiClient, JsonResponse } from './api-client';
import { progressLine } from './format';
import type { IntentView } from '../contracts/views';

export const POLL_INTERVAL_MS = 1000;

/**
 * Settled = needs a human (gate open) or will never change again.
 * AWAITING_APPROVAL with a decided gate is a projection catching up, so keep polling.
 */
export function isSettled(intent: IntentView): boolean {
  if (terminalStatuses.includes(intent.status)) return true;
  return intent.status === 'AWAITING_APPROVAL' && intent.gate?.state !== 'decided';
}

/** Exit status for --wait and watch: 0 when the intent can still succeed or has, 1 when it cannot. */
export function outcomeExitCode(intent: IntentView): number {
  return ['FAILED', 'REJECTED', 'CANCELLED'].includes(intent.status) ? 1 : 0;
}

export async function fetchIntent(api: ApiClient, id: string): Promise<JsonResponse<IntentView>> {
  return api.get<IntentView>(`/intents/${id}`);
}

/** Polls until settled, calling onUpdate with every answer (callers decide what changed). */
export async function pollUntilSettled(
  api: ApiClient,
  id: string,
  onUpdate: (intent: IntentView) => void,
  intervalMs = POLL_INTERVAL_MS,
): Promise<JsonResponse<IntentView>> {
  for (;;) {
    const response = await fetchIntent(api, id);
    onUpdate(response.body);
    if (isSettled(response.body)) return response;
    await sleep(intervalMs);
  }
}

/** Ctrl-C while waiting is a normal way out: exit 130 without a trace. */
export function exitOnInterrupt(cleanup: () => void = () => {}): void {
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
}

/** An onUpdate that writes a progress line to stderr only when it changes. */
export function progressReporter(write: (line: string) => void): (intent: IntentView) => void {
  let last = '';
  return (intent) => {
    const line = progressLine(intent);
    if (line !== last) write(`${new Date().toISOString().slice(11, 19)}  ${line}`);
    last = line;
  };
}
