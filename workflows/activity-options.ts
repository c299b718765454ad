import type { ActivityOptions, LocalActivityOptions, RetryPolicy } from '@temporalio/workflow';
import type { TaskType } from '../contracts/plan';

// One place for the timeouts and retry policy of each kind of activity.

// Every activity that can run longer than a few seconds heartbeats (every 2 s, activities/heartbeat.ts),
// with this heartbeat timeout: when its worker dies, Temporal retries it on another worker within about
// 15 s, not at the end of its start-to-close timeout (and a loaded machine still beats well inside it).
const HEARTBEAT_TIMEOUT = '15s';

/** Planning: may call an LLM; retried with backoff, heartbeating. */
export const agentActivity: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
};

/**
 * Agents per task type: code generation gets the longest and most attempts; the rest are smaller
 * jobs that should fail sooner. A task that exhausts its attempts fails the task, not the worker.
 */
export const taskActivity: Record<TaskType, ActivityOptions> = {
  codegen: agentActivity,
  test: { ...agentActivity, startToCloseTimeout: '10 minutes', retry: { ...agentActivity.retry, maximumAttempts: 3 } },
  infra: { ...agentActivity, startToCloseTimeout: '5 minutes', retry: { ...agentActivity.retry, maximumAttempts: 3 } },
  analyze: {
    ...agentActivity,
    startToCloseTimeout: '5 minutes',
    retry: { ...agentActivity.retry, maximumAttempts: 3 },
  },
  doc: { ...agentActivity, startToCloseTimeout: '5 minutes', retry: { ...agentActivity.retry, maximumAttempts: 3 } },
};

/** Packaging: object-storage work, heartbeating. */
export const ioActivity: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
};

/**
 * Read-model writes: short, idempotent, run as local activities to keep them off the task queue. Bounded:
 * a database down for longer than 10 minutes fails the intent with the cause instead of retrying forever,
 * and a run whose intent row does not exist (an orphan of a submission the API gave up on) fails at once.
 * Backoffs past 2 s wait on a workflow timer rather than in the worker.
 */
export const readModelActivity: LocalActivityOptions = {
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '10 minutes',
  localRetryThreshold: '2s',
  retry: {
    initialInterval: '200ms',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 25,
    nonRetryableErrorTypes: ['IntentNotRecorded'],
  },
};

// Validation layers heartbeat every 5 s; inputs that can never validate are not retried.
const validationRetry: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  nonRetryableErrorTypes: ['UnsafeOutputPath', 'ArtifactCorrupt', 'ArtifactConflict'],
};

/** The project's type-check (once per project: layer 1 reuses it), heartbeating. */
export const typecheckActivity: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { ...validationRetry, maximumAttempts: 10 },
};

/** Layer 1: compiler, ESLint, secrets, semgrep, dependency policy, LLM review. */
export const staticReviewActivity: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { ...validationRetry, maximumAttempts: 3 },
};

/** Layer 3: compliance rule packs. */
export const complianceActivity: ActivityOptions = { ...staticReviewActivity, startToCloseTimeout: '5 minutes' };

/**
 * Layer 2: build and tests in the sandbox. The run has its own wall clock (SANDBOX_TIMEOUT_MS, default
 * 2 min); this bounds the activity around it. A sandbox that breaks is retried once; failing tests are a result.
 */
export const dynamicValidationActivity: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { ...validationRetry, maximumAttempts: 2 },
};

/** Scores, report and SARIF from the layers' summaries. */
export const scoringActivity: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: { ...validationRetry, maximumAttempts: 5 },
};
