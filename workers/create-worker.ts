import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, VALIDATION_ACTIVITIES, type ActivityDependencies, type Activities } from '../activities';
import { ComputePool } from '../adapters/compute/pool';
import { registerSigningKey } from '../adapters/signing/registry';
import { workerTelemetryOptions } from '../adapters/telemetry/tracing-temporal';
import { validationTaskQueue } from '../contracts/workflow';
import type * as threaded from '../validation/threaded';

/** What a worker process hosts: workflows and light activities, validation, or both (the demo and tests). */
export type WorkerRole = 'orchestration' | 'validation';

export interface CreateWorkerOptions extends ActivityDependencies {
  connection: NativeConnection;
  namespace: string;
  /** The orchestration task queue; validation workers poll `validationTaskQueue(taskQueue)`. */
  taskQueue: string;
  /** Default: both, in one process (separate Worker instances; validation's CPU work on pool threads). */
  roles?: readonly WorkerRole[];
  /** Threads for validation's CPU-heavy checks; default: one per CPU. */
  validationThreads?: number;
  /** A prebuilt bundle (tests bundle once per file); otherwise the worker bundles workflows/ itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Wraps the activities, e.g. to count executions in tests; the activities themselves stay real. */
  wrapActivities?: (activities: Activities) => Activities;
  /** How long in-flight activities may finish after shutdown is requested before they are cancelled. */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /**
   * Payload encryption (adapters/temporal/codec-data-converter.ts); codecs run outside the workflow sandbox.
   * A prebuilt `workflowBundle` should be bundled with its `failureConverterPath` too.
   */
  dataConverter?: WorkerOptions['dataConverter'];
}

/** The workers of one process, run and stopped together. */
export interface QlpWorker {
  readonly roles: readonly WorkerRole[];
  run(): Promise<void>;
  shutdown(): void;
}

const common = {
  // Cancellation reaches an activity with a heartbeat response: keep heartbeats flowing every
  // couple of seconds (the default throttle would be 80% of the heartbeat timeout).
  maxHeartbeatThrottleInterval: '2s',
  defaultHeartbeatThrottleInterval: '2s',
} satisfies Partial<WorkerOptions>;

/**
 * The orchestration worker (intent and task workflows, planning, agents, packaging, read model) and the
 * validation worker (type-check, layers 1–3, scores) on its own task queue, whose CPU-heavy checks run
 * on a thread pool: whatever validation does, workflow tasks are never stuck behind it.
 */
export async function createWorker(options: CreateWorkerOptions): Promise<QlpWorker> {
  const roles = options.roles ?? ['orchestration', 'validation'];
  const threads = options.validationThreads;
  const pool = roles.includes('validation')
    ? new ComputePool<typeof threaded>(require.resolve('../validation/threaded'), threads)
    : undefined;
  if (roles.includes('orchestration')) {
    // Packaging signs capsules: the key is registered (idempotently) so the API can serve it to verifiers.
    if (!options.signer) throw new Error('an orchestration worker needs a capsule signer (it packages capsules)');
    await registerSigningKey(options.db, options.signer);
  }
  const created = createActivities({ ...options, validation: { ...options.validation, pool } });
  const activities = options.wrapActivities ? options.wrapActivities(created) : created;
  const validation = Object.fromEntries(VALIDATION_ACTIVITIES.map((name) => [name, activities[name]]));
  const orchestration = Object.fromEntries(
    Object.entries(activities).filter(([name]) => !(VALIDATION_ACTIVITIES as readonly string[]).includes(name)),
  );
  const workers: Worker[] = [];
  const shutdownGraceTime = options.shutdownGraceTime ?? '10s';
  if (roles.includes('orchestration')) {
    workers.push(
      await Worker.create({
        ...common,
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: options.taskQueue,
        ...(options.workflowBundle
          ? { workflowBundle: options.workflowBundle }
          : { workflowsPath: require.resolve('../workflows') }),
        activities: orchestration,
        // Traces and log context through workflows and activities (a prebuilt bundle carries its interceptors).
        ...workerTelemetryOptions(Boolean(options.workflowBundle)),
        shutdownGraceTime,
        dataConverter: options.dataConverter,
      }),
    );
  }
  if (pool) {
    workers.push(
      await Worker.create({
        ...common,
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: validationTaskQueue(options.taskQueue),
        activities: validation,
        interceptors: workerTelemetryOptions(true).interceptors,
        // Take only what the pool and the sandbox can start soon; the rest stays on the queue for other
        // validation workers (scale-out) instead of waiting here.
        maxConcurrentActivityTaskExecutions: pool.threads * 4,
        shutdownGraceTime,
        dataConverter: options.dataConverter,
      }),
    );
  }
  return {
    roles,
    async run() {
      try {
        // One worker failing stops the other: the process is one unit for its supervisor.
        await Promise.all(
          workers.map((worker) =>
            worker.run().catch((error: unknown) => {
              for (const other of workers) if (other.getState() === 'RUNNING') other.shutdown();
              throw error;
            }),
          ),
        );
      } finally {
        await pool?.close();
      }
    },
    shutdown() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}
