import { randomUUID } from 'node:crypto';
import { createDatabase, type Database } from '../../adapters/db/client';
import { LlmGateway } from '../../adapters/llm';
import { offlineLlmConfig } from '../../adapters/llm/config';
import { createPlanningActivities } from '../../activities/parse-intent';
import { planProblems, type TaskShape } from '../../agents/planning/plan-validation';
import { ObjectStore } from '../../adapters/storage/s3';
import { loadConfig } from '../../config';
import { json, ScriptedLlm } from '../support/scripted-llm';
import { llmConfig, providerFor } from './llm-stack';
import { greeterPlan } from './scripted-project';

const t = (id: string, dependencies: string[] = [], outputs: string[] = []): TaskShape => ({
  id,
  dependencies,
  outputs,
});

describe('plan validation', () => {
  test.each<[string, TaskShape[], string[]]>([
    ['a sound plan', [t('a'), t('b', ['a']), t('c', ['a', 'b'])], []],
    ['an empty plan', [], ['the plan has no tasks: plan at least one task']],
    ['duplicate ids', [t('a'), t('a')], ['task id "a" is used by 2 tasks; ids must be unique']],
    ['a self-dependency', [t('a', ['a'])], ['task "a" depends on itself']],
    ['an unknown dependency', [t('a', ['ghost'])], ['task "a" depends on unknown task "ghost"']],
    ['a two-task cycle', [t('a', ['b']), t('b', ['a'])], ['dependency cycle: a → b → a']],
    [
      'a longer cycle behind a sound task',
      [t('root'), t('x', ['root', 'z']), t('y', ['x']), t('z', ['y'])],
      ['dependency cycle: x → z → y → x'],
    ],
    [
      'ids that cannot be workflow ids',
      [t('Build API'), t('ok')],
      ['task id "Build API" must be lowercase letters, digits and dashes (max 40)'],
    ],
    [
      'too many tasks',
      Array.from({ length: 31 }, (_, i) => t(`t${i}`)),
      ['the plan has 31 tasks; at most 30 are allowed'],
    ],
    [
      'two tasks planning the same file',
      [t('a', [], ['src/x.ts']), t('b', [], ['src/x.ts'])],
      ['tasks "a" and "b" both plan src/x.ts'],
    ],
    [
      'an unsafe planned output',
      [t('a', [], ['../etc/passwd'])],
      ['task "a" plans unsafe output path "../etc/passwd": climbs out of the project (..)'],
    ],
  ])('%s', (_, tasks, problems) => {
    expect(planProblems(tasks)).toEqual(problems);
  });
});

describe('the LLM planner', () => {
  let db: Database;
  let llm: ScriptedLlm;
  const store = new ObjectStore(loadConfig().s3);
  const budget = { maxTokens: null, maxCostUsd: null };

  beforeAll(async () => {
    db = createDatabase(process.env.DATABASE_URL!, { maxConnections: 3 });
    llm = await ScriptedLlm.start();
  });
  afterAll(async () => {
    await llm?.close();
    await db?.$disconnect();
  });
  beforeEach(() => llm.reset());

  const parse = (text: string) =>
    createPlanningActivities({
      gateway: new LlmGateway(db, llmConfig([providerFor(llm)])),
      store,
      defaultBudget: budget,
    }).parseIntent({
      intentId: randomUUID(),
      text,
    });

  test('an empty plan gets one repair round with the problem fed back, and the repaired plan is used', async () => {
    llm.enqueue(json({ projectName: 'greeter', tasks: [] }), json(greeterPlan()));
    const plan = await parse(`plan repair ${randomUUID()}`);
    expect(plan.tasks.map((task) => task.id)).toEqual(['core', 'tests', 'readme']);
    expect(llm.requests[1]!.body.messages.at(-1)!.content).toContain('the plan has no tasks');
  });

  test.each([
    [
      'a cycle',
      {
        projectName: 'p',
        tasks: [
          { id: 'a', type: 'codegen', description: 'a', dependencies: ['b'], priority: 1, outputs: [] },
          { id: 'b', type: 'test', description: 'b', dependencies: ['a'], priority: 1, outputs: [] },
        ],
      },
      /dependency cycle: a → b → a/,
    ],
    [
      'an unknown dependency',
      {
        projectName: 'p',
        tasks: [{ id: 'a', type: 'codegen', description: 'a', dependencies: ['zzz'], priority: 1, outputs: [] }],
      },
      /depends on unknown task "zzz"/,
    ],
    [
      'an unknown task type',
      {
        projectName: 'p',
        tasks: [{ id: 'a', type: 'deploy', description: 'a', dependencies: [], priority: 1, outputs: [] }],
      },
      /tasks\.0\.type/,
    ],
    ['an empty plan', { projectName: 'p', tasks: [] }, /the plan has no tasks/],
  ])('still %s after the repair round: PlanInvalid, non-retryable, with the problem', async (_, bad, problem) => {
    llm.enqueue(json(bad), json(bad));
    const failure = await parse(`plan invalid ${randomUUID()}`).catch((error: unknown) => error);
    expect(failure).toMatchObject({ type: 'PlanInvalid', nonRetryable: true });
    expect((failure as Error).message).toMatch(/^the LLM's plan was still invalid after one repair round: /);
    expect((failure as Error).message).toMatch(problem);
    expect(llm.requests).toHaveLength(2);
  });

  test('with no provider, an intent outside the catalogue fails fast and says how to configure one', async () => {
    const offline = createPlanningActivities({
      gateway: new LlmGateway(db, offlineLlmConfig()),
      store,
      defaultBudget: budget,
    });
    const failure = await offline
      .parseIntent({ intentId: randomUUID(), text: 'Summarise nightly sales reports' })
      .catch((e: unknown) => e);
    expect(failure).toMatchObject({ type: 'OutsideOfflineCatalogue', nonRetryable: true });
    expect((failure as Error).message).toMatch(
      /outside the offline catalogue .* An LLM provider is required .*LLM_PROVIDERS=/,
    );
  });
});
