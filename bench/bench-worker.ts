/**
 * The worker process the DAG benchmark runs: the real worker with fixed plan shapes chosen by the
 * intent text, and agents that are instant unless the task asks for latency ("sleep=<ms>").
 */
import { Context } from '@temporalio/activity';
import { NativeConnection } from '@temporalio/worker';
import type { Activities, Planner } from '../activities';
import { createDatabase } from '../adapters/db/client';
import { SandboxSelector } from '../adapters/sandbox';
import { ObjectStore } from '../adapters/storage/s3';
import { loadConfigOrExit } from '../config';
import type { PlannedTask } from '../contracts/plan';
import { createWorker } from '../workers/create-worker';

// One codegen task per shape gives validation a TypeScript file to pass, so auto-approval applies;
// the others are analysis notes with paths of their own.
const task = (id: string, dependencies: string[] = [], sleepMs = 0): PlannedTask => ({
  id,
  type: id === 'a' || id === 'w0' ? 'codegen' : 'analyze',
  description: sleepMs ? `bench task sleep=${sleepMs}` : 'bench task',
  dependencies,
  priority: 0,
});

export const shapes: Record<string, PlannedTask[]> = {
  // Five tasks, instant agents: a → (b, c) → d → e.
  five: [task('a'), task('b', ['a']), task('c', ['a']), task('d', ['b', 'c']), task('e', ['d'])],
  // Ten independent tasks of one second each.
  width10: Array.from({ length: 10 }, (_, i) => task(`w${i}`, [], 1000)),
};

const planner: Planner = ({ text }) => {
  const tasks = shapes[text.replace(/^bench:/, '')];
  if (!tasks) throw new Error(`unknown bench shape ${text}`);
  return { planner: 'bench-fixed', projectName: 'bench', tasks };
};

const withLatency = (activities: Activities): Activities => ({
  ...activities,
  runAgent: async (input) => {
    const sleepMs = Number(/sleep=(\d+)/.exec(input.task.description)?.[1] ?? 0);
    if (sleepMs) await Context.current().sleep(sleepMs);
    return activities.runAgent(input);
  },
});

async function main() {
  const config = loadConfigOrExit();
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    db: createDatabase(config.databaseUrl),
    store: new ObjectStore(config.s3),
    llm: config.llm,
    sandbox: new SandboxSelector(config.sandbox),
    planner,
    wrapActivities: withLatency,
  });
  console.log('bench worker ready');
  await worker.run();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
