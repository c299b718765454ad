import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, decide } from './support/api';
import { terminateRunning, uniqueTenant, waitForStatus } from './support/authz-helpers';
import { createStackKeys, eventually, openStack, type TestStack } from './support/stack';

// The alert rules and the dashboard against a real Prometheus (the Debian package's binary): promtool's
// unit tests of the rules; then a Prometheus that scrapes this file's API and a real worker process (its
// process metrics and the Temporal SDK's), loads deploy/prometheus/alerts.yml and evaluates it, while one
// intent runs end to end. Every metric the rules and the dashboard name must exist in what it scraped.

const root = join(__dirname, '..');
const RULES = join(root, 'deploy/prometheus/alerts.yml');
const DASHBOARD = join(root, 'deploy/grafana/quantumlayer.json');
/** Ports after the stack's (27233–27257 + offset), so test runs side by side do not meet. */
const offset = Number(process.env.QLP_TEST_PORT_OFFSET ?? 0);
const PROMETHEUS_PORT = 27290 + offset;
const WORKER_METRICS = `127.0.0.1:${27291 + offset}`;
const SDK_METRICS = `127.0.0.1:${27292 + offset}`;
const SCRAPE_TOKEN = randomBytes(24).toString('hex');
const INSTALL = 'apt-get install prometheus (Debian; .ci/run installs it)';

let stack: TestStack;
let dir: string;
let worker: ChildProcess | undefined;
let prometheus: ChildProcess | undefined;
const output = { worker: '', prometheus: '' };
const prometheusUrl = `http://127.0.0.1:${PROMETHEUS_PORT}`;

function binary(name: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error(`${name} is not installed: ${INSTALL}`);
  return found;
}

/** Starts a process in the background, keeping what it prints for failure messages. */
function start(command: string, args: string[], env: NodeJS.ProcessEnv, into: keyof typeof output): ChildProcess {
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer) => (output[into] = (output[into] + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Prometheus's HTTP API: the `data` of a successful answer. */
async function api(path: string): Promise<any> {
  const response = await fetch(`${prometheusUrl}${path}`);
  const body = (await response.json()) as { status: string; data: unknown; error?: string };
  if (body.status !== 'success') throw new Error(`${path}: ${body.error}`);
  return body.data;
}

async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  return (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result;
}

test('promtool: the rules are valid and their unit tests pass', () => {
  const promtool = binary('promtool');
  const check = spawnSync(promtool, ['check', 'rules', RULES], { encoding: 'utf8' });
  expect(check.stdout + check.stderr).toContain('SUCCESS: 10 rules found');
  expect(check.status).toBe(0);
  const unit = spawnSync(promtool, ['test', 'rules', 'alerts.test.yml'], {
    cwd: join(root, 'deploy/prometheus'),
    encoding: 'utf8',
  });
  expect(unit.stdout + unit.stderr).toContain('SUCCESS');
  expect(unit.status).toBe(0);
});

describe('a real Prometheus beside the stack', () => {
  beforeAll(async () => {
    stack = await openStack('prometheus', (c) => ({ ...c, metrics: { ...c.metrics, scrapeToken: SCRAPE_TOKEN } }));
    dir = await mkdtemp(join(tmpdir(), 'qlp-prometheus-'));
    // A real worker process, as deployed: its own metrics and the SDK's on their own ports.
    worker = start(
      process.execPath,
      ['--import', 'tsx', join(root, 'workers/main.ts')],
      {
        ...process.env,
        TEMPORAL_TASK_QUEUE: stack.config.temporal.taskQueue,
        WORKER_METRICS_BIND: WORKER_METRICS,
        TEMPORAL_METRICS_BIND: SDK_METRICS,
        LOG_LEVEL: 'info', // its start-up line says when it polls
      },
      'worker',
    );
    await eventually(async () => {
      if (worker!.exitCode !== null) throw new Error(`the worker exited ${worker!.exitCode}:\n${output.worker}`);
      return /worker: polling/.test(output.worker) || undefined;
    }, 'the worker process to poll');
  });

  afterAll(async () => {
    await terminateRunning(stack, 'prometheus test finished');
    await stop(prometheus);
    await stop(worker);
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a real Prometheus scrapes the API and a worker, evaluates the rules, and sees one intent end to end', async () => {
    const apiTarget = new URL(stack.apiUrl).host;
    const config = `
  global:
    scrape_interval: 1s
    evaluation_interval: 1s
  rule_files: ['${RULES}']
  scrape_configs:
    - job_name: quantumlayer-api
      metrics_path: /api/v1/metrics
      authorization: { credentials: '${SCRAPE_TOKEN}' }
      static_configs: [{ targets: ['${apiTarget}'] }]
    - job_name: quantumlayer-worker
      static_configs: [{ targets: ['${WORKER_METRICS}'] }]
    - job_name: quantumlayer-temporal-sdk
      static_configs: [{ targets: ['${SDK_METRICS}'] }]
  `;
    await writeFile(join(dir, 'prometheus.yml'), config);
    prometheus = start(
      binary('prometheus'),
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
        '--log.level=warn',
      ],
      process.env,
      'prometheus',
    );

    // Every target up, and every rule evaluated without error.
    const targets = await eventually(async () => {
      if (prometheus!.exitCode !== null) throw new Error(`prometheus exited:\n${output.prometheus}`);
      const data = await api('/api/v1/targets').catch(() => undefined);
      const active = (data?.activeTargets ?? []) as { labels: { job: string }; health: string; lastError: string }[];
      return active.length === 3 && active.every((t) => t.health === 'up') ? active : undefined;
    }, 'the three targets to be up');
    expect(targets.map((t) => t.labels.job).sort()).toEqual([
      'quantumlayer-api',
      'quantumlayer-temporal-sdk',
      'quantumlayer-worker',
    ]);
    const evaluated = async () => {
      const groups = (await api('/api/v1/rules')).groups as {
        name: string;
        rules: { name: string; health: string; lastError?: string; lastEvaluation: string }[];
      }[];
      const rules = groups.flatMap((g) => g.rules);
      const never = rules.filter((r) => r.lastEvaluation.startsWith('0001-'));
      const broken = rules.filter((r) => r.health !== 'ok' && r.health !== 'unknown');
      if (broken.length) throw new Error(`rules failing: ${JSON.stringify(broken)}`);
      return never.length === 0 && rules.every((r) => r.health === 'ok') ? { groups, rules } : undefined;
    };
    const before = await eventually(evaluated, 'every rule to be evaluated');
    expect(before.groups.map((g) => g.name).sort()).toEqual(['quantumlayer-operations', 'quantumlayer-seed']);
    expect(before.rules).toHaveLength(10);

    // One intent through the API, run by the worker process, approved.
    const tenant = uniqueTenant('prom');
    const keys = await createStackKeys(stack.db, 'prometheus', tenant);
    const submitted = await call(`${stack.apiUrl}/intents`, {
      body: { text: 'Build a TypeScript module that tracks library book loans' },
      token: keys.submitter,
    });
    expect(submitted.status).toBe(202);
    const id: string = submitted.body.id;
    await waitForStatus(stack, id, keys.submitter, 'AWAITING_APPROVAL');
    const approved = await decide(stack.apiUrl, id, { decision: 'approve', reason: 'prometheus test' }, keys.approver);
    expect(approved.status).toBe(200);
    await waitForStatus(stack, id, keys.submitter, 'COMPLETED');

    // What Prometheus stored from its scrapes: intent, stage, score, and the SDK's metrics for our queue.
    const queue = stack.config.temporal.taskQueue;
    const seen = async (expr: string) => {
      const result = await query(expr);
      return result.length > 0 ? result : undefined;
    };
    const value = (result: { value: [number, string] }[]) => Number(result[0]!.value[1]);
    expect(
      value(await eventually(() => seen(`qlp_intents{tenant="${tenant}",status="COMPLETED"} == 1`), 'intent')),
    ).toBe(1);
    expect(
      value(
        await eventually(() => seen(`qlp_stage_duration_seconds_count{tenant="${tenant}",stage="executing"}`), 'stage'),
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(await eventually(() => seen(`qlp_validation_score_count{tenant="${tenant}",score="overall"}`), 'score')),
    ).toBe(1);
    expect(
      value(await eventually(() => seen(`sum(qlp_task_duration_seconds_count{tenant="${tenant}"})`), 'task durations')),
    ).toBeGreaterThanOrEqual(1);
    const sdk = await eventually(
      () => seen(`temporal_workflow_task_schedule_to_start_latency_count{task_queue="${queue}"}`),
      'the SDK workflow task latency for our queue',
    );
    expect(value(sdk)).toBeGreaterThan(0);
    await eventually(
      () => seen(`temporal_activity_execution_latency_count{task_queue="${queue}-validation"}`),
      'activities',
    );
    await eventually(
      () => seen(`qlp_worker_info{task_queue="${queue}",roles="orchestration,validation"}`),
      'worker info',
    );
    // The seed alerts' expressions on the real series: the mean overall score of intents validated in the
    // last 10m is this intent's score (its series existed at 0 before, so rate() sees the change).
    const overall = (await call(`${stack.apiUrl}/intents/${id}`, { token: keys.submitter })).body.validation.score
      .scores.overall as number;
    const confidence = await eventually(
      () =>
        seen(
          `sum(rate(qlp_validation_score_sum{tenant="${tenant}",score="overall"}[10m])) / sum(rate(qlp_validation_score_count{tenant="${tenant}",score="overall"}[10m]))`,
        ),
      'the confidence alert expression to have a value',
    );
    expect(value(confidence)).toBeCloseTo(overall, 6);
    const executing = await eventually(
      () =>
        seen(
          `sum(rate(qlp_stage_duration_seconds_sum{tenant="${tenant}",stage="executing"}[5m])) / sum(rate(qlp_stage_duration_seconds_count{tenant="${tenant}",stage="executing"}[5m]))`,
        ),
      'the execution time alert expression to have a value',
    );
    expect(value(executing)).toBeGreaterThan(0);
    const after = await evaluated();
    expect(after?.rules.every((r) => r.health === 'ok')).toBe(true);

    // Every metric the rules and the dashboard name is one the stack exports (or Prometheus's own `up`).
    const exported = await exportedNames();
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as {
      panels: { type: string; title: string; targets?: { expr: string }[] }[];
      templating: { list: { definition?: string }[] };
    };
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(20);
    const exprs = [
      ...panels.flatMap((p) => {
        expect([p.title, (p.targets ?? []).length > 0]).toEqual([p.title, true]);
        return p.targets!.map((t) => ({ where: `dashboard panel "${p.title}"`, expr: t.expr }));
      }),
      ...(await rulesExprs()).map((r) => ({ where: `alert ${r.name}`, expr: r.expr })),
    ];
    const unknown = exprs.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
    // The names found are real ones: every seed metric family appears somewhere.
    const named = new Set(exprs.flatMap(({ expr }) => metricNames(expr)));
    for (const family of [
      'qlp_intents',
      'qlp_intents_finished_total',
      'qlp_stage_duration_seconds_sum',
      'qlp_validation_score_sum',
      'qlp_compliance_verdicts_total',
      'qlp_llm_tokens_total',
      'qlp_llm_cache_hit_ratio',
      'qlp_sandbox_limit_hits_total',
      'qlp_gate_oldest_open_seconds',
      'qlp_webhook_dead_letters_total',
      'qlp_budget_refusals_total',
      'temporal_workflow_task_schedule_to_start_latency_bucket',
    ]) {
      expect([family, named.has(family)]).toEqual([family, true]);
    }
  });
});

/** The alert rules as Prometheus loaded them. */
async function rulesExprs(): Promise<{ name: string; expr: string }[]> {
  const groups = (await api('/api/v1/rules')).groups as { rules: { name: string; query: string }[] }[];
  return groups.flatMap((g) => g.rules.map((r) => ({ name: r.name, expr: r.query })));
}

/**
 * Metric names the stack exports: every series Prometheus stored, plus every family the scraped endpoints
 * declare (`# TYPE`), which covers metrics with no sample yet (no LLM call or webhook offline); a
 * histogram family `x` stands for x_bucket, x_sum and x_count.
 */
async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>(['up', ...((await api('/api/v1/label/__name__/values')) as string[])]);
  const texts = await Promise.all([
    fetch(`${stack.apiUrl}/metrics`, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } }).then((r) => r.text()),
    fetch(`http://${WORKER_METRICS}/metrics`).then((r) => r.text()),
    fetch(`http://${SDK_METRICS}/metrics`).then((r) => r.text()),
  ]);
  for (const text of texts) {
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      names.add(name!);
      if (type === 'histogram' || type === 'summary') {
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
      }
    }
  }
  return names;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression selects (functions, label names, strings and durations left out). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // grouping labels
    .replace(/\[[^\]]*\]/g, ' ') // ranges
    .replace(/\$\w+/g, ' '); // Grafana variables
  const names = [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)]
    .filter(([, name, call]) => !call && !KEYWORDS.has(name!.toLowerCase()))
    .map(([, name]) => name!);
  return [...new Set(names)];
}
