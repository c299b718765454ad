import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../activities';

export interface CreateWorkerOptions extends ActivityDependencies {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (tests bundle once per file); otherwise the worker bundles workflows/ itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Wraps the activities, e.g. to count executions in tests; the activities themselves stay real. */
  wrapActivities?: (activities: ReturnType<typeof createActivities>) => object;
  /** How long in-flight activities may finish after shutdown is requested before they are cancelled. */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
}

/** One worker hosting the intent and task workflows and every activity. */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const activities = createActivities(options);
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    activities: options.wrapActivities ? options.wrapActivities(activities) : activities,
    shutdownGraceTime: options.shutdownGraceTime ?? '10s',
    // Cancellation reaches an activity with a heartbeat response: keep heartbeats flowing every
    // couple of seconds (the default throttle would be 80% of the heartbeat timeout, 48 s).
    maxHeartbeatThrottleInterval: '2s',
    defaultHeartbeatThrottleInterval: '2s',
  });
}
