import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Activities } from '../activities';
import { storeTaskFiles } from '../adapters/storage/artifacts';
import type { PlannedTask } from '../contracts/plan';
import { IntentView } from '../contracts/views';
import { fixedPlanner, task } from './support/agents';
import { call } from './support/api';
import { eventually, openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';
import { untilStatus } from './support/where';

const CGROUPS = '/sys/fs/cgroup';

// Through the whole intent workflow: a generated project with a planted issue against a clean one.

// A small real project: layer 2 installs it offline, compiles it and runs its tests in the sandbox.
const projectFiles = (assertion: string) => [
  {
    path: 'package.json',
    content: JSON.stringify({
      name: 'loans',
      private: true,
      scripts: { test: 'tsc -p . && node --test dist/test/' },
      devDependencies: { typescript: '~5.9.3', '@types/node': '^20.19.0' },
    }),
  },
  {
    path: 'tsconfig.json',
    content: JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'commonjs', types: ['node'], strict: true, outDir: 'dist' },
      include: ['src', 'test'],
    }),
  },
  {
    path: 'src/loans.ts',
    content: [
      'export interface Loan {',
      '  bookId: string;',
      '  due: Date;',
      '}',
      '',
      'export function overdue(loans: Loan[], now: Date): Loan[] {',
      '  return loans.filter((loan) => loan.due.getTime() < now.getTime());',
      '}',
      '',
    ].join('\n'),
  },
  {
    path: 'test/loans.test.ts',
    content: [
      "import { test } from 'node:test';",
      "import { strictEqual } from 'node:assert';",
      "import { overdue } from '../src/loans';",
      '',
      "test('an overdue loan is listed', () => {",
      "  const loans = [{ bookId: 'b1', due: new Date('2026-01-01') }];",
      `  strictEqual(overdue(loans, new Date('2026-02-01')).length, ${assertion});`,
      '});',
      '',
    ].join('\n'),
  },
];
const clean = projectFiles('1');
const failing = projectFiles('2');
// Its test never ends: the sandbox's own 2-minute wall clock is far away, so only cancellation stops it.
const looping = [{ path: 'loop.test.js', content: "require('node:test')('spins', () => { for (;;) {} });\n" }];
const planted = [
  ...clean,
  {
    path: 'src/sync.ts',
    content: [
      "import https from 'node:https';",
      '',
      '// TLS verification switched off: the planted issue.',
      'const agent = new https.Agent({ rejectUnauthorized: false });',
      '',
      'export function fetchCatalogue(): Promise<number> {',
      '  return new Promise((resolve, reject) => {',
      "    https.get('https://catalogue.example.org/books', { agent }, (res) => resolve(res.statusCode ?? 0)).on('error', reject);",
      '  });',
      '}',
      '',
    ].join('\n'),
  },
];

const plans = new Map<string, PlannedTask[]>([
  ['clean project', [task('module', [], 'codegen')]],
  ['planted project', [task('module', [], 'codegen')]],
  ['failing project', [task('module', [], 'codegen')]],
  ['looping project', [task('module', [], 'codegen')]],
]);

const filesFor = (text: string) =>
  text.startsWith('planted')
    ? planted
    : text.startsWith('failing')
      ? failing
      : text.startsWith('looping')
        ? looping
        : clean;

let stack: TestStack;
let worker: RunningWorker;

beforeAll(async () => {
  // Auto-approval on: only a project whose verdict is `passed` may skip the human gate.
  stack = await openStack('validation-e2e', (config) => ({ ...config, gate: { ...config.gate, autoApprove: true } }));
  worker = await startWorker(stack, {
    planner: fixedPlanner(plans),
    // The agent's output is chosen by the test; everything after it (S3, validation, workflow) is real.
    wrapActivities: (activities: Activities): Activities => ({
      ...activities,
      runAgent: async (input) => ({
        ...(await storeTaskFiles(stack.store, input.intentId, input.task.id, filesFor(input.intentText))),
        run: { attempt: 1, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString() },
      }),
    }),
  });
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

async function validated(text: string, status: string) {
  const { body } = await call(`${stack.apiUrl}/intents`, { body: { text } });
  const intent = IntentView.parse(await untilStatus(stack, body.id, [status]));
  const report = (await call(`${stack.apiUrl}/intents/${body.id}/validation`)).body;
  return { intent, report };
}

test('a planted issue fails a control, lowers the score and yields a recommendation; the clean project passes', async () => {
  const good = await validated('clean project', 'COMPLETED'); // passed: auto-approved and packaged
  const bad = await validated('planted project', 'AWAITING_APPROVAL'); // failed: waits for a human

  const failedControls = (report: {
    frameworks: { controls: { status: string; controlId?: string; id?: string }[] }[];
  }) => report.frameworks.flatMap((f) => f.controls.filter((c) => c.status === 'fail'));
  expect(failedControls(good.report)).toEqual([]);
  expect(failedControls(bad.report).length).toBeGreaterThan(0);

  expect(good.intent.validation!.score!.verdict).toBe('passed');
  expect(bad.intent.validation!.score!.verdict).toBe('failed');
  expect(bad.intent.validation!.score!.scores.overall!).toBeLessThan(good.intent.validation!.score!.scores.overall!);
  expect(bad.intent.validation!.score!.scores.security!).toBeLessThan(good.intent.validation!.score!.scores.security!);

  const titles = bad.report.recommendations.map((r: { title: string }) => r.title).join('\n');
  expect(titles).toMatch(/TLS/i);
  expect(good.report.recommendations).toEqual([]);
  expect(good.intent.gate?.decision).toMatchObject({ approver: 'policy:auto-approve', via: 'policy' });
  expect(good.intent.validation!.dynamic).toMatchObject({
    status: 'assessed',
    driver: 'bubblewrap',
    outcome: 'passed',
    tests: { passed: 1, failed: 0 },
  });
});

test('a failing test in the sandbox fails the verdict, caps quality and names the test', async () => {
  const { intent, report } = await validated('failing project', 'AWAITING_APPROVAL');
  expect(intent.validation!.dynamic).toMatchObject({ outcome: 'failed', tests: { passed: 0, failed: 1 } });
  expect(intent.validation!.score!.verdict).toBe('failed');
  expect(intent.validation!.score!.reasons).toContain('1 test(s) failed in the sandbox');
  expect(intent.validation!.score!.scores.quality!).toBeLessThanOrEqual(59);
  expect(report.layers.dynamic.status).toBe('assessed');
  expect(report.sandbox).toMatchObject({ driver: 'bubblewrap', outcome: 'failed', tests: { passed: 0, failed: 1 } });
  const failed = report.findings.filter((f: { ruleId: string }) => f.ruleId === 'sandbox/test-failed');
  expect(failed).toHaveLength(1);
  expect(failed[0].message).toContain('an overdue loan is listed');
});

test('cancelling an intent while its tests run in the sandbox kills the run and removes it', async () => {
  // The worker runs in this process, so its bubblewrap runs' cgroups are named after this pid.
  const runs = async () =>
    (await readdir(join(CGROUPS, 'pids', 'qlp-sandbox')).catch(() => [] as string[])).filter((name) =>
      name.startsWith(`${process.pid}-`),
    );
  const before = await runs();
  const { body } = await call(`${stack.apiUrl}/intents`, { body: { text: 'looping project' } });
  const [run] = await eventually(async () => {
    const started = (await runs()).filter((name) => !before.includes(name));
    return started.length ? started : undefined;
  }, 'the sandbox run to start');
  const processes = async () =>
    (await readFile(join(CGROUPS, 'pids', 'qlp-sandbox', run!, 'cgroup.procs'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean);
  await eventually(async () => ((await processes()).length >= 3 ? true : undefined), 'the looping test to run');

  const cancelled = await call(`${stack.apiUrl}/intents/${body.id}/cancel`, {
    body: { reason: 'stuck in tests' },
  });
  expect({ status: cancelled.status, body: cancelled.body }).toMatchObject({ status: 202 });
  // The activity sees the cancellation at its next heartbeat and kills the sandbox: processes and cgroup go.
  await eventually(async () => ((await runs()).includes(run!) ? undefined : true), 'the sandbox run to be removed');
  const intent = await eventually(async () => {
    const { body: current } = await call(`${stack.apiUrl}/intents/${body.id}`);
    return current.status === 'CANCELLED' ? current : undefined;
  }, 'the intent to be cancelled');
  expect(intent.capsule).toBeNull();
});
