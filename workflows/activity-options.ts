import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

// One place for the timeouts and retry policy of each kind of activity.

/** Planning and agents: may call an LLM; retried with backoff, heartbeating. */
export const agentActivity: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
};

/** Validation and packaging: CPU and object-storage work. */
export const ioActivity: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
};

/** Read-model writes: short, idempotent, run as local activities to keep them off the task queue. */
export const readModelActivity: LocalActivityOptions = {
  startToCloseTimeout: '15s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
};
