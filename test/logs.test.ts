import { configureLogging, getLogger } from '../adapters/telemetry/logger';
import { redactSecretsIn } from '../adapters/telemetry/logger-redact';
import { startTracing } from '../adapters/telemetry/tracing';
import { CreatedWebhookView } from '../contracts/webhooks';
import { TEST_KEY } from './llm/llm-stack';
import { greeterResponder } from './llm/scripted-project';
import { call, decide, setDefaultToken } from './support/api';
import { ScriptedLlm } from './support/scripted-llm';
import {
  createStackKeys,
  eventually,
  openStack,
  startWorker,
  type RunningWorker,
  type StackKeys,
  type TestStack,
} from './support/stack';
import { untilStatus } from './support/where';
import { always, WebhookReceiver } from './support/webhook-receiver';

// The API's and the workers' JSON logs for one intent run with real secrets configured (an LLM key, the
// S3 secret, a webhook secret, API keys): every line in request, workflow and activity context says which
// intent, task, workflow run, tenant and trace it belongs to, and no secret appears anywhere.

const TENANT = 'logs';
const LLM_KEY = `${TEST_KEY}-logs-only`;
const lines: string[] = [];
const llmEnvironment = {
  LLM_PROVIDERS: 'compatible',
  LLM_COMPATIBLE_API_KEY: LLM_KEY,
  LLM_COMPATIBLE_MODEL: 'scripted-model',
};

let llm: ScriptedLlm;
let receiver: WebhookReceiver;
let stack: TestStack;
let keys: StackKeys;
let worker: RunningWorker;

beforeAll(async () => {
  llm = await ScriptedLlm.start();
  llm.apiKey = LLM_KEY; // the provider refuses calls without it, so the worker must send it
  llm.responder = greeterResponder({ variant: 'logs' });
  // Secrets come from the environment, as in a deployment; the logger learns them when configured.
  Object.assign(process.env, llmEnvironment, { LLM_COMPATIBLE_BASE_URL: llm.baseUrl });
  configureLogging({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
  startTracing({ serviceName: 'quantumlayer-logs-test' }); // no endpoint: spans stay in process, ids reach logs
  receiver = new WebhookReceiver();
  await receiver.start();
  stack = await openStack('logs', (c) => ({
    ...c,
    webhooks: { ...c.webhooks, allowPrivateTargets: true, allowHttp: true },
  }));
  keys = await createStackKeys(stack.db, 'logs', TENANT);
  setDefaultToken(keys.submitter); // the intent's tenant is ours: reads go as its submitter
  worker = await startWorker(stack);
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
  await receiver?.stop();
  await llm?.close();
  for (const name of [...Object.keys(llmEnvironment), 'LLM_COMPATIBLE_BASE_URL']) delete process.env[name];
  configureLogging({ level: 'warn' });
});

type Line = Record<string, unknown> & { msg?: string };

test('an intent run logs JSON lines carrying its intent, task, workflow, run, tenant and trace, and no secret', async () => {
  expect(stack.config.llm.providers.map((p) => p.name)).toEqual(['compatible']);
  const hook = await call(`${stack.apiUrl}/webhooks`, {
    body: { url: receiver.endpoint('logs', always(204)), events: ['intent.submitted', 'intent.completed'] },
    token: keys.admin,
  });
  expect(hook.status).toBe(201);
  const webhookSecret = CreatedWebhookView.parse(hook.body).secret;
  receiver.setSecret('logs', webhookSecret);

  const submitted = await call(`${stack.apiUrl}/intents`, {
    body: { text: `Build a greeter library ${Date.now()}` },
    token: keys.submitter,
  });
  expect(submitted.status).toBe(202);
  const id: string = submitted.body.id;
  await untilStatus(stack, id, ['AWAITING_APPROVAL']);
  expect((await decide(stack.apiUrl, id, { decision: 'approve', reason: 'logged' }, keys.approver)).status).toBe(200);
  await untilStatus(stack, id, ['COMPLETED']);
  await eventually(
    async () => (receiver.accepted('logs').size >= 2 ? true : undefined),
    'both webhook deliveries (signed with the secret) to arrive',
  );
  expect(llm.requests.length).toBeGreaterThan(0);
  expect(llm.requests.every((r) => r.headers.authorization === `Bearer ${LLM_KEY}`)).toBe(true);

  // Every line is one JSON object.
  const parsed = lines.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((line) => JSON.parse(line) as Line);
  const mine = parsed.filter((line) => line.intentId === id);

  // The request lines: the submission names its new intent, each carries its request id and trace.
  const submission = mine.find((line) => line.component === 'api' && (line.req as Line)?.method === 'POST');
  expect(submission).toMatchObject({ tenant: TENANT, intentId: id, res: { statusCode: 202 } });
  expect(submission?.requestId).toEqual(expect.any(String));
  expect(submission?.traceId).toMatch(/^[0-9a-f]{32}$/);
  const requestTrace = submission!.traceId;

  // Workflow and activity lines (the SDK's, through its runtime logger), for the intent and its tasks.
  const temporal = mine.filter((line) => line.component === 'temporal');
  const activities = temporal.filter((line) => typeof line.activityType === 'string');
  const workflows = temporal.filter((line) => typeof line.workflowType === 'string' && !line.activityType);
  expect([...new Set(activities.map((line) => line.activityType))]).toEqual(
    expect.arrayContaining(['parseIntent', 'runAgent', 'dynamicValidation', 'packageCapsule']),
  );
  expect(new Set(workflows.map((line) => line.workflowType))).toEqual(new Set(['intentWorkflow', 'taskWorkflow']));
  // The SDK writes its "started" line before any interceptor has seen the headers that carry the tenant
  // and the trace: those two lines have the ids only (docs/operations.md says so).
  const beforeHeaders = (line: Line) => line.msg === 'Activity started' || line.msg === 'Workflow started';
  for (const line of [...activities, ...workflows]) {
    expect(line).toMatchObject({ intentId: id, workflowId: expect.any(String), runId: expect.any(String) });
    if (String(line.workflowId).includes('/task-')) expect(line.taskId).toEqual(expect.any(String));
    if (beforeHeaders(line)) continue;
    expect([line.msg, line.tenant, line.traceId]).toEqual([line.msg, TENANT, requestTrace]);
  }
  // Lines after the headers were read exist for both workflow types and for activities: the loop checked them.
  const checked = [...activities, ...workflows].filter((line) => !beforeHeaders(line));
  expect([...new Set(checked.map((line) => line.workflowType))].sort()).toEqual(['intentWorkflow', 'taskWorkflow']);
  expect(checked.filter((line) => line.activityType).length).toBeGreaterThan(10);
  const taskIds = new Set(activities.filter((l) => l.activityType === 'runAgent').map((l) => l.taskId));
  expect(taskIds).toEqual(new Set(['core', 'tests', 'readme']));

  // No secret, anywhere in the captured output.
  const everything = lines.join('');
  const secrets = {
    llmKey: LLM_KEY,
    s3Secret: stack.config.s3.secretKey,
    webhookSecret,
    submitterKey: keys.submitter,
    approverKey: keys.approver,
    adminKey: keys.admin,
  };
  const leaked = Object.entries(secrets).filter(([, secret]) => everything.includes(secret));
  expect(leaked.map(([name]) => name)).toEqual([]);
});

test('secrets are removed by field name, by configured value and by shape, wherever they appear in a line', () => {
  const captured: string[] = [];
  configureLogging({ level: 'info', destination: { write: (line: string) => void captured.push(line) } });
  const apiKey = `qlp_0123456789ab_${'A'.repeat(43)}`;
  getLogger('test').error(
    {
      req: { headers: { authorization: `Bearer ${apiKey}`, 'x-api-key': 'raw-header-credential' } },
      config: { password: 'field-named-password', llm: { apiKey: 'field-named-api-key' } },
      err: new Error(`cannot reach postgresql://qlp:db-password-in-url@db:5432/qlp with ${LLM_KEY}`),
    },
    `key ${apiKey}, webhook whsec_${'b'.repeat(40)} and sk-${'c'.repeat(24)} and S3 ${process.env.S3_SECRET_KEY}`,
  );
  const line = captured.join('');
  for (const secret of [
    apiKey,
    'raw-header-credential',
    'field-named-password',
    'field-named-api-key',
    'db-password-in-url',
    LLM_KEY,
    `whsec_${'b'.repeat(40)}`,
    `sk-${'c'.repeat(24)}`,
    process.env.S3_SECRET_KEY!,
  ])
    expect([secret, line.includes(secret)]).toEqual([secret, false]);
  // What is not secret stays: the key's public prefix names it, the URL's host and user say where.
  expect(line).toContain('qlp_0123456789ab_[REDACTED]');
  expect(line).toContain('postgresql://qlp:[REDACTED]@db:5432/qlp');
  expect(JSON.parse(line)).toMatchObject({ level: 'error', component: 'test' });
  expect(redactSecretsIn('nothing to hide here')).toBe('nothing to hide here');
});
