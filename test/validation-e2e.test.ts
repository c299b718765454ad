import type { Activities } from '../activities';
import { storeTaskFiles } from '../activities/artifacts';
import type { PlannedTask } from '../contracts/plan';
import { IntentView } from '../contracts/views';
import { fixedPlanner, task } from './support/agents';
import { call } from './support/api';
import { eventually, openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';

// Through the whole intent workflow: a generated project with a planted issue against a clean one.

const clean = [
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
];
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
]);

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
        ...(await storeTaskFiles(
          stack.store,
          input.intentId,
          input.task.id,
          input.intentText.startsWith('planted') ? planted : clean,
        )),
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
  const intent = await eventually(async () => {
    const { body: current } = await call(`${stack.apiUrl}/intents/${body.id}`);
    return current.status === status ? IntentView.parse(current) : undefined;
  }, `${text} to reach ${status}`);
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
});
