/**
 * The worker process the benchmarks run: the real worker (WORKER_ROLES: orchestration, validation or
 * both, like workers/main.ts) with, by default, fixed plan shapes chosen by the intent text and agents
 * that are instant unless the task asks for latency ("sleep=<ms>").
 *
 *   BENCH_PLANNER=catalogue     the real planner and agents (offline catalogue), not the fixed shapes
 *   BENCH_ACTIVITY_LOG=<file>   one JSON line per activity start and end, with the process's CPU time
 *   BENCH_HOLD_MS, BENCH_HOLD   (chaos) hold the listed activity types that long on their first attempt,
 *                               heartbeating, before they run, so a kill can land inside them
 */
import { loadLocalSigner } from '../adapters/signing/local-key';
import { appendFileSync, readFileSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { NativeConnection } from '@temporalio/worker';
import type { Activities, Planner } from '../activities';
import { createDatabase } from '../adapters/db/client';
import { SandboxSelector } from '../adapters/sandbox';
import { ObjectStore } from '../adapters/storage/s3';
import { loadConfigOrExit } from '../config';
import { createWorker } from '../workers/create-worker';
import { BENCH_PROJECT_SPEC, shapes } from './shapes';

const planner: Planner = ({ text }) => {
  const tasks = shapes[text.replace(/^bench:/, '')];
  if (!tasks) throw new Error(`unknown bench shape ${text}`);
  return { planner: 'bench-fixed', projectName: BENCH_PROJECT_SPEC.projectName, tasks };
};

/** This process's CPU time so far, ms: its threads (process.cpuUsage) and its waited-for children. */
function cpu(): { self: number; children: number } {
  const { user, system } = process.cpuUsage();
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { self: (user + system) / 1000, children: ((Number(fields[13]) + Number(fields[14])) * 1000) / 100 };
}

/** Wraps every activity: optional log of starts and ends (ordinary file appends: they survive kill -9), optional hold. */
function instrument(activities: Activities): Activities {
  const logFile = process.env.BENCH_ACTIVITY_LOG;
  const holdMs = Number(process.env.BENCH_HOLD_MS ?? 0);
  const hold = new Set((process.env.BENCH_HOLD ?? '').split(',').filter(Boolean));
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities) as [string, (...args: unknown[]) => Promise<unknown>][]) {
    wrapped[name] = async (...args: unknown[]) => {
      const ctx = Context.current();
      const { activityId, attempt, isLocal, workflowExecution } = ctx.info;
      const log = (ev: string) => {
        if (!logFile) return;
        const line = { ev, type: name, wf: workflowExecution?.workflowId, id: activityId, attempt, local: isLocal };
        appendFileSync(logFile, `${JSON.stringify({ ...line, t: Date.now(), pid: process.pid, cpu: cpu() })}\n`);
      };
      log('start');
      if (holdMs && attempt === 1 && hold.has(name)) {
        for (const until = Date.now() + holdMs; Date.now() < until;) {
          ctx.heartbeat({ phase: 'bench hold' });
          await ctx.sleep(Math.min(500, until - Date.now()));
        }
      }
      try {
        const result = await fn(...args);
        log('end');
        return result;
      } catch (error) {
        log('error');
        throw error;
      }
    };
  }
  return wrapped as Activities;
}

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
  const { roles, validationThreads } = config.worker;
  const catalogue = process.env.BENCH_PLANNER === 'catalogue';
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const sandbox = new SandboxSelector(config.sandbox);
  if (roles.includes('validation')) {
    // As workers/main.ts: the sandbox chosen now, leftovers of killed workers removed.
    const choice = await sandbox.start();
    console.log(
      choice.driver
        ? `bench worker: layer 2 in the ${choice.driver.name} sandbox (${choice.reaped} leftovers removed)`
        : `bench worker: WARNING layer 2 is not assessed: ${choice.reason}`,
    );
  }
  const worker = await createWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    roles,
    validationThreads,
    db: createDatabase(config.databaseUrl),
    store: new ObjectStore(config.s3),
    llm: config.llm,
    sandbox,
    validation: { semgrepPath: config.validation.semgrepPath },
    ...(roles.includes('orchestration') && {
      signer: loadLocalSigner(config.security.capsuleKeys.dir, config.security.mode),
    }),
    ...(catalogue ? {} : { planner }),
    wrapActivities: (activities) => instrument(catalogue ? activities : withLatency(activities)),
  });
  console.log(`bench worker ready (${roles.join(',')}, ${catalogue ? 'catalogue planner' : 'fixed shapes'})`);
  await worker.run();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
