import { randomBytes } from 'node:crypto';
import { call, decide } from './support/api';
import { terminateRunning, uniqueTenant, waitForStatus } from './support/authz-helpers';
import {
  createStackKeys,
  eventually,
  openStack,
  startWorker,
  type RunningWorker,
  type StackKeys,
  type TestStack,
} from './support/stack';
import { version } from '../package.json';

// GET /api/v1/metrics and GET /api/v1/status against the real stack: who may scrape, what an intent leaves
// in the business metrics (computed from the read model), HTTP metrics by route template, and the
// workers and queues Temporal reports.

let stack: TestStack;
let worker: RunningWorker;
let keys: StackKeys;
const TENANT = uniqueTenant('metrics');
const SCRAPE_TOKEN = randomBytes(24).toString('hex');

beforeAll(async () => {
  stack = await openStack('metrics', (c) => ({ ...c, metrics: { ...c.metrics, scrapeToken: SCRAPE_TOKEN } }));
  keys = await createStackKeys(stack.db, 'metrics', TENANT);
  worker = await startWorker(stack);
});

afterAll(async () => {
  await terminateRunning(stack, 'metrics test finished');
  await worker?.stop();
  await stack?.close();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (what a scraper reads). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!.replace(/\\"/g, '"').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The one sample of `name` whose labels include `labels`, or undefined. */
function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function scrape(token: string | null): Promise<Sample[]> {
  const response = await call<string>(`${stack.apiUrl}/metrics`, { token });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(response.body);
}

test('metrics need the scrape token or an auditor/admin credential, and show only the caller’s tenants', async () => {
  expect((await call(`${stack.apiUrl}/metrics`, { token: null })).status).toBe(401);
  const wrongToken = await call(`${stack.apiUrl}/metrics`, { token: 'x'.repeat(SCRAPE_TOKEN.length) });
  expect(wrongToken.status).toBe(401);
  const submitter = await call(`${stack.apiUrl}/metrics`, { token: keys.approver });
  expect(submitter.status).toBe(403);
  expect(submitter.body.detail).toContain('metrics:read needs one of the roles auditor, admin');

  // An intent in this file's tenant and one in another, so each tenant shows up in the scopes that may see it.
  const otherTenant = uniqueTenant('metrics-other');
  const otherKeys = await createStackKeys(stack.db, 'metrics-other', otherTenant);
  for (const submitter of [keys.submitter, otherKeys.submitter]) {
    const submitted = await call(`${stack.apiUrl}/intents`, {
      body: { text: 'A library module for invoices with amount and due date' },
      token: submitter,
    });
    expect(submitted.status).toBe(202);
  }

  const own = await scrape(keys.auditor);
  expect(new Set(own.filter((s) => s.name === 'qlp_intents').map((s) => s.labels.tenant))).toEqual(new Set([TENANT]));
  // The process's own metrics are there too, labelled as the API's.
  expect(sample(own, 'process_cpu_user_seconds_total', { component: 'api' })).toBeGreaterThan(0);

  const everyone = await scrape(SCRAPE_TOKEN);
  const tenants = new Set(everyone.filter((s) => s.name === 'qlp_intents').map((s) => s.labels.tenant));
  expect(tenants.has(TENANT)).toBe(true);
  expect(tenants.has(otherTenant)).toBe(true);
  expect((await scrape(otherKeys.auditor)).some((s) => s.labels.tenant === TENANT)).toBe(false);
  expect(sample(everyone, 'qlp_intents_submitted_total', { tenant: TENANT })).toBe(1);
});

test('after one approved intent: intent, stage, task, score, verdict, sandbox and HTTP metrics', async () => {
  const tenant = uniqueTenant('metrics-run');
  const runKeys = await createStackKeys(stack.db, 'metrics-run', tenant);
  const submitted = await call(`${stack.apiUrl}/intents`, {
    body: { text: 'Build a TypeScript module that tracks library book loans' },
    token: runKeys.submitter,
  });
  expect(submitted.status).toBe(202);
  const id: string = submitted.body.id;

  await waitForStatus(stack, id, runKeys.submitter, 'AWAITING_APPROVAL');
  const waiting = await scrape(runKeys.auditor);
  expect(sample(waiting, 'qlp_intents', { tenant, status: 'AWAITING_APPROVAL' })).toBe(1);
  expect(sample(waiting, 'qlp_gates_open', { tenant })).toBe(1);
  expect(sample(waiting, 'qlp_gate_oldest_open_seconds', { tenant })).toBeGreaterThanOrEqual(0);

  const approved = await decide(stack.apiUrl, id, { decision: 'approve', reason: 'metrics test' }, runKeys.approver);
  expect(approved.status).toBe(200);
  await waitForStatus(stack, id, runKeys.submitter, 'COMPLETED');

  const done = await scrape(runKeys.admin);
  expect(sample(done, 'qlp_intents', { tenant, status: 'COMPLETED' })).toBe(1);
  expect(sample(done, 'qlp_intents', { tenant, status: 'AWAITING_APPROVAL' })).toBe(0);
  expect(sample(done, 'qlp_intents_finished_total', { tenant, status: 'COMPLETED' })).toBe(1);
  expect(sample(done, 'qlp_intents_finished_total', { tenant, status: 'FAILED' })).toBe(0);
  expect(sample(done, 'qlp_gates_open', { tenant })).toBeUndefined();

  // Each stage the intent went through (a stage entered twice counts twice); a histogram's +Inf bucket is its count.
  for (const stage of ['queued', 'planning', 'executing', 'validating', 'awaiting_approval', 'packaging', 'total']) {
    const count = sample(done, 'qlp_stage_duration_seconds_count', { tenant, stage });
    expect([stage, count! >= 1]).toEqual([stage, true]);
    expect(sample(done, 'qlp_stage_duration_seconds_bucket', { tenant, stage, le: '+Inf' })).toBe(count);
    expect(sample(done, 'qlp_stage_duration_seconds_sum', { tenant, stage })).toBeGreaterThanOrEqual(0);
  }
  expect(sample(done, 'qlp_stage_duration_seconds_count', { tenant, stage: 'total' })).toBe(1);
  const total = sample(done, 'qlp_stage_duration_seconds_sum', { tenant, stage: 'total' })!;
  const parts = ['queued', 'planning', 'executing', 'validating', 'awaiting_approval', 'packaging'].reduce(
    (sum, stage) => sum + sample(done, 'qlp_stage_duration_seconds_sum', { tenant, stage })!,
    0,
  );
  expect(parts).toBeCloseTo(total, 3);

  // Scores as the intent's validation reports them, in the histogram's buckets.
  const view = (await call(`${stack.apiUrl}/intents/${id}`, { token: runKeys.submitter })).body;
  const scores = view.validation.score.scores as Record<string, number | null>;
  for (const [score, value] of Object.entries(scores)) {
    if (value === null) continue;
    expect([score, sample(done, 'qlp_validation_score_sum', { tenant, score })]).toEqual([score, value]);
    const bucket = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].find((le) => value <= le)!;
    expect(sample(done, 'qlp_validation_score_bucket', { tenant, score, le: String(bucket) })).toBe(1);
    if (bucket > 10)
      expect(sample(done, 'qlp_validation_score_bucket', { tenant, score, le: String(bucket - 10) })).toBe(0);
  }
  expect(sample(done, 'qlp_validation_verdicts_total', { tenant, verdict: view.validation.score.verdict })).toBe(1);
  for (const { framework, status } of view.validation.compliance.frameworks as {
    framework: string;
    status: string;
  }[]) {
    expect(sample(done, 'qlp_compliance_verdicts_total', { tenant, framework, status })).toBe(1);
  }
  const dynamic = view.validation.dynamic;
  expect(
    sample(done, 'qlp_sandbox_runs_total', {
      tenant,
      driver: dynamic.driver ?? 'none',
      outcome: dynamic.outcome ?? dynamic.status,
    }),
  ).toBe(1);
  const timeouts = ((dynamic.limitHits ?? []) as string[]).filter((hit) => hit === 'timeout').length;
  expect(sample(done, 'qlp_sandbox_limit_hits_total', { tenant, limit: 'timeout' })).toBe(timeouts);
  expect(sample(done, 'qlp_budget_refusals_total', { tenant, kind: 'budget' })).toBe(0);

  // Every task of the plan, by type, in the task histogram.
  const taskCount = done
    .filter((s) => s.name === 'qlp_task_duration_seconds_count' && s.labels.tenant === tenant)
    .reduce((sum, s) => sum + s.value, 0);
  expect(taskCount).toBe(view.tasks.length);

  // HTTP requests by route template, never by raw path.
  const reads = sample(done, 'qlp_http_requests_total', { method: 'GET', route: '/intents/{id}', status: '200' });
  expect(reads).toBeGreaterThan(0);
  expect(done.some((s) => s.name === 'qlp_http_requests_total' && s.labels.route!.includes(id))).toBe(false);
  expect(sample(done, 'qlp_http_requests_total', { method: 'POST', route: '/intents', status: '202' })).toBeGreaterThan(
    0,
  );
  const unknown = await call(`${stack.apiUrl}/no/such/route/${id}`, { token: runKeys.auditor });
  expect(unknown.status).toBe(404);
  const after = await scrape(runKeys.auditor);
  expect(
    sample(after, 'qlp_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }),
  ).toBeGreaterThan(0);
  expect(
    sample(after, 'qlp_http_request_duration_seconds_count', { method: 'GET', route: '/intents/{id}', status: '200' }),
  ).toBe(sample(after, 'qlp_http_requests_total', { method: 'GET', route: '/intents/{id}', status: '200' }));
});

test('status names the version, the workers polling both queues, the backlog and the open gates', async () => {
  const tenant = uniqueTenant('status');
  const statusKeys = await createStackKeys(stack.db, 'status', tenant);
  const anonymous = await call(`${stack.apiUrl}/status`, { token: null });
  expect(anonymous.status).toBe(401);

  const submitted = await call(`${stack.apiUrl}/intents`, {
    body: { text: 'A library module for invoices with amount and due date' },
    token: statusKeys.submitter,
  });
  expect(submitted.status).toBe(202);
  await waitForStatus(stack, submitted.body.id, statusKeys.submitter, 'AWAITING_APPROVAL');

  // Temporal lists a poller once it has polled: the worker polls all the time, so wait for both roles.
  const report = await eventually(async () => {
    const { status, body } = await call(`${stack.apiUrl}/status`, { token: statusKeys.submitter });
    expect(status).toBe(200);
    return body.workers.orchestration && body.workers.validation ? body : undefined;
  }, 'both worker roles seen polling');
  expect(report.version).toBe(version);
  expect(report.status).toBe('ok');
  expect(report.components).toMatchObject({ temporal: { ok: true }, database: { ok: true }, s3: { ok: true } });
  expect(report.workers.seen.length).toBeGreaterThan(0);
  const queues = Object.fromEntries(
    report.queues.map((q: { name: string; type: string }) => [`${q.type}:${q.name}`, q]),
  );
  const queue = stack.config.temporal.taskQueue;
  expect(Object.keys(queues).sort()).toEqual(
    [`activity:${queue}`, `activity:${queue}-validation`, `workflow:${queue}`].sort(),
  );
  for (const q of report.queues) {
    expect(q.error).toBeUndefined();
    // Temporal 1.32 (the dev server here) reports stats: a backlog count (0 when nothing waits).
    expect(typeof q.backlog).toBe('number');
    expect(q.backlog).toBeGreaterThanOrEqual(0);
  }
  expect(report.gates.open).toBe(1);
  expect(report.gates.oldestOpenSeconds).toBeGreaterThanOrEqual(0);
  expect(report.intents).toEqual({ running: 1, awaitingApproval: 1 });
  expect(report.uptimeSeconds).toBeGreaterThanOrEqual(0);

  // Another tenant's caller sees its own gates, not these.
  const outsider = await createStackKeys(stack.db, 'status-outsider', uniqueTenant('outsider'));
  const other = await call(`${stack.apiUrl}/status`, { token: outsider.auditor });
  expect(other.body.gates.open).toBe(0);

  await decide(stack.apiUrl, submitted.body.id, { decision: 'reject', reason: 'status test' }, statusKeys.approver);
  await waitForStatus(stack, submitted.body.id, statusKeys.submitter, 'REJECTED');
});
