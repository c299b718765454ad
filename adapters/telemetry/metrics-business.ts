import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import { Prisma } from '../../generated/prisma/client';
import { taskTypes } from '../../contracts/plan';
import { limitKinds } from '../../contracts/sandbox';
import type { Database } from '../db/client';

// The seed's business metrics, computed from the read model at scrape time: the read model is what every
// process shares (an API replica, a worker) and what survives restarts, so any API replica answers the
// same totals and nothing is lost when a process dies. Totals only grow (rows are never deleted), so the
// `_total` series are counters Prometheus can take a rate() of.

/** Whose data a scrape sees: every tenant (the scrape token), or the caller's tenants. */
export interface MetricsScope {
  tenants: 'all' | string[];
}

const STATUSES = [
  'RECEIVED',
  'PLANNING',
  'EXECUTING',
  'VALIDATING',
  'AWAITING_APPROVAL',
  'PACKAGING',
  'COMPLETED',
  'REJECTED',
  'FAILED',
  'CANCELLED',
] as const;
const FINAL = ['COMPLETED', 'REJECTED', 'FAILED', 'CANCELLED'];

/** Audit events that change an intent's status, and the stage each begins (null: the run ends). `queued`
 * (submission to the first step) comes from the intent row. */
const STAGE_STARTED_BY: Record<string, string | null> = {
  'intent.planning': 'planning',
  'intent.executing': 'executing',
  'intent.validating': 'validating',
  'intent.awaiting_approval': 'awaiting_approval',
  'intent.changes_requested': 'executing',
  'intent.approved': 'packaging',
  'intent.packaging': 'packaging',
  'intent.completed': null,
  'intent.rejected': null,
  'intent.failed': null,
  'intent.cancelled': null,
  'intent.run_replaced': null,
};

/** Every stage label: `queued` from the intent row, `total` from submission to the end. */
const STAGES = [
  'queued',
  ...new Set(Object.values(STAGE_STARTED_BY).filter((stage): stage is string => stage !== null)),
  'total',
];

/** Seconds: planning and agents take seconds to minutes (LLM), validation minutes, the gate hours to days. */
const STAGE_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 14_400, 86_400, 604_800];
const TASK_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Scores are 0–100; the seed's alert threshold is 80. */
const SCORE_BUCKETS = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];

/** A registry with every business metric for the scope, queried now. */
export async function businessMetrics(db: Database, scope: MetricsScope): Promise<Registry> {
  const registry = new Registry();
  const where = scopeWhere(scope);
  const tenants = await intentMetrics(db, registry, where);
  await Promise.all([
    stageMetrics(db, registry, where, tenants),
    validationMetrics(db, registry, where, tenants),
    llmMetrics(db, registry, where),
    gateMetrics(db, registry, scope),
    webhookMetrics(db, registry, where),
    refusalMetrics(db, registry, where, tenants),
  ]);
  return registry;
}

type Where = (column: string) => Prisma.Sql;

/** The condition that keeps a query to the scope's tenants (`column` is ours, never input). */
function scopeWhere(scope: MetricsScope): Where {
  return (column) =>
    scope.tenants === 'all' ? Prisma.sql`TRUE` : Prisma.sql`${Prisma.raw(column)} = ANY(${scope.tenants}::text[])`;
}

/** Intents by status; returns the tenants that have any, whose rare counters start at 0. */
async function intentMetrics(db: Database, registry: Registry, where: Where): Promise<string[]> {
  const rows = await db.$queryRaw<{ tenant: string; status: string; n: bigint }[]>`
    SELECT tenant, status::text AS status, COUNT(*) AS n FROM intents WHERE ${where('tenant')} GROUP BY 1, 2`;
  const byStatus = gauge(registry, 'qlp_intents', 'Intents by tenant and current status', ['tenant', 'status']);
  const submitted = counter(registry, 'qlp_intents_submitted_total', 'Intents submitted', ['tenant']);
  const finished = counter(
    registry,
    'qlp_intents_finished_total',
    'Intents that ended, by final status (COMPLETED, REJECTED, FAILED, CANCELLED)',
    ['tenant', 'status'],
  );
  // Every status of every tenant seen, zeros included: a ratio of rates needs both series to exist, and
  // increase() misses a counter's first value when its series appears already above zero.
  const tenants = [...new Set(rows.map((row) => row.tenant))];
  for (const tenant of tenants) {
    for (const status of STATUSES) byStatus.set({ tenant, status }, 0);
    for (const status of FINAL) finished.inc({ tenant, status }, 0);
    submitted.inc({ tenant }, 0);
  }
  for (const { tenant, status, n } of rows) {
    byStatus.set({ tenant, status }, Number(n));
    submitted.inc({ tenant }, Number(n));
    if (FINAL.includes(status)) finished.inc({ tenant, status }, Number(n));
  }
  return tenants;
}

/** Time in each stage, from the audit trail: a stage lasts from its status event to the next one. */
async function stageMetrics(db: Database, registry: Registry, where: Where, tenants: string[]) {
  const boundaries = Object.keys(STAGE_STARTED_BY);
  const cases = Prisma.join(
    Object.entries(STAGE_STARTED_BY)
      .filter(([, stage]) => stage)
      .map(([type, stage]) => Prisma.sql`WHEN ${type} THEN ${stage}`),
    ' ',
  );
  // The API's submission writes no audit event: an intent is queued from its row's creation to its first step.
  const stages = Prisma.sql`
    WITH steps AS (
      SELECT tenant, intent_id, type, created_at,
             LEAD(created_at) OVER (PARTITION BY intent_id ORDER BY chain_seq) AS ended_at
      FROM audit_events
      WHERE intent_id IS NOT NULL AND type = ANY(${boundaries}::text[]) AND ${where('tenant')}
    ), runs AS (
      SELECT s.tenant, i.created_at AS submitted_at,
             MIN(s.created_at) AS first_step_at,
             MIN(s.created_at) FILTER (WHERE s.type IN ('intent.completed', 'intent.rejected', 'intent.failed', 'intent.cancelled')) AS ended_at
      FROM steps s JOIN intents i ON i.id = s.intent_id GROUP BY s.tenant, s.intent_id, i.created_at
    )
    SELECT tenant, CASE type ${cases} END AS label,
           GREATEST(0, EXTRACT(EPOCH FROM ended_at - created_at))::float8 AS value
    FROM steps WHERE ended_at IS NOT NULL AND (CASE type ${cases} END) IS NOT NULL
    UNION ALL
    SELECT tenant, 'queued', GREATEST(0, EXTRACT(EPOCH FROM first_step_at - submitted_at))::float8 FROM runs
    UNION ALL
    SELECT tenant, 'total', GREATEST(0, EXTRACT(EPOCH FROM ended_at - submitted_at))::float8
    FROM runs WHERE ended_at IS NOT NULL`;
  const tasks = Prisma.sql`
    SELECT i.tenant, t.type AS label, EXTRACT(EPOCH FROM t.finished_at - t.started_at)::float8 AS value
    FROM tasks t JOIN intents i ON i.id = t.intent_id
    WHERE t.started_at IS NOT NULL AND t.finished_at IS NOT NULL AND ${where('i.tenant')}`;
  registry.registerMetric(
    await histogram(db, {
      name: 'qlp_stage_duration_seconds',
      help: 'Time intents spent in each stage (queued, planning, executing, validating, awaiting_approval, packaging; total: submission to end)',
      label: 'stage',
      buckets: STAGE_BUCKETS,
      values: stages,
      zeroFill: { tenants, labels: STAGES },
    }),
  );
  registry.registerMetric(
    await histogram(db, {
      name: 'qlp_task_duration_seconds',
      help: "Time each task's agent ran, by task type",
      label: 'type',
      buckets: TASK_BUCKETS,
      values: tasks,
      zeroFill: { tenants, labels: taskTypes },
    }),
  );
}

async function validationMetrics(db: Database, registry: Registry, where: Where, tenants: string[]) {
  const scores = Prisma.sql`
    SELECT i.tenant, s.key AS label, s.value::float8 AS value
    FROM intents i, jsonb_each_text(i.validation -> 'score' -> 'scores') s
    WHERE jsonb_typeof(i.validation -> 'score' -> 'scores') = 'object' AND s.value IS NOT NULL AND ${where('i.tenant')}`;
  registry.registerMetric(
    await histogram(db, {
      name: 'qlp_validation_score',
      help: 'Validation scores 0–100 of validated intents, by score (overall, security, quality, compliance)',
      label: 'score',
      buckets: SCORE_BUCKETS,
      values: scores,
      zeroFill: { tenants, labels: ['overall', 'security', 'quality', 'compliance'] },
    }),
  );
  const [verdicts, frameworks, sandbox, limits] = await Promise.all([
    db.$queryRaw<{ tenant: string; verdict: string; n: bigint }[]>`
      SELECT tenant, validation -> 'score' ->> 'verdict' AS verdict, COUNT(*) AS n FROM intents
      WHERE validation -> 'score' ->> 'verdict' IS NOT NULL AND ${where('tenant')} GROUP BY 1, 2`,
    db.$queryRaw<{ tenant: string; framework: string; status: string; n: bigint }[]>`
      SELECT i.tenant, f ->> 'framework' AS framework, f ->> 'status' AS status, COUNT(*) AS n
      FROM intents i, jsonb_array_elements(i.validation -> 'compliance' -> 'frameworks') f
      WHERE jsonb_typeof(i.validation -> 'compliance' -> 'frameworks') = 'array' AND ${where('i.tenant')}
      GROUP BY 1, 2, 3`,
    db.$queryRaw<{ tenant: string; driver: string | null; outcome: string; n: bigint }[]>`
      SELECT tenant, validation -> 'dynamic' ->> 'driver' AS driver,
             COALESCE(validation -> 'dynamic' ->> 'outcome', validation -> 'dynamic' ->> 'status') AS outcome,
             COUNT(*) AS n
      FROM intents WHERE validation -> 'dynamic' ->> 'status' IS NOT NULL AND ${where('tenant')} GROUP BY 1, 2, 3`,
    db.$queryRaw<{ tenant: string; kind: string; n: bigint }[]>`
      SELECT i.tenant, h AS kind, COUNT(*) AS n
      FROM intents i, jsonb_array_elements_text(i.validation -> 'dynamic' -> 'limitHits') h
      WHERE jsonb_typeof(i.validation -> 'dynamic' -> 'limitHits') = 'array' AND ${where('i.tenant')} GROUP BY 1, 2`,
  ]);
  const verdict = counter(registry, 'qlp_validation_verdicts_total', 'Validation verdicts', ['tenant', 'verdict']);
  for (const row of verdicts) verdict.inc({ tenant: row.tenant, verdict: row.verdict }, Number(row.n));
  const compliance = counter(
    registry,
    'qlp_compliance_verdicts_total',
    'Compliance framework results of validated intents (pass, fail, not_assessed)',
    ['tenant', 'framework', 'status'],
  );
  for (const row of frameworks) {
    compliance.inc({ tenant: row.tenant, framework: row.framework, status: row.status }, Number(row.n));
  }
  const runs = counter(
    registry,
    'qlp_sandbox_runs_total',
    "Layer 2 sandbox runs of the generated projects' builds and tests, by driver and outcome (passed, failed, not_assessed)",
    ['tenant', 'driver', 'outcome'],
  );
  for (const row of sandbox) {
    runs.inc({ tenant: row.tenant, driver: row.driver ?? 'none', outcome: row.outcome }, Number(row.n));
  }
  const hits = counter(
    registry,
    'qlp_sandbox_limit_hits_total',
    'Sandbox runs stopped by a limit (timeout, memory, pids, output, disk, cpu)',
    ['tenant', 'limit'],
  );
  for (const tenant of tenants) for (const limit of limitKinds) hits.inc({ tenant, limit }, 0);
  for (const row of limits) hits.inc({ tenant: row.tenant, limit: row.kind }, Number(row.n));
}

async function llmMetrics(db: Database, registry: Registry, where: Where) {
  const rows = await db.$queryRaw<
    {
      tenant: string | null;
      provider: string;
      model: string;
      state: string;
      n: bigint;
      prompt: bigint | null;
      completion: bigint | null;
      cost: number | null;
    }[]
  >`
    SELECT i.tenant, c.provider, c.model, c.state, COUNT(*) AS n, SUM(c.prompt_tokens) AS prompt,
           SUM(c.completion_tokens) AS completion, SUM(c.cost_usd)::float8 AS cost
    FROM llm_calls c LEFT JOIN intents i ON i.id = c.intent_id
    WHERE ${where('i.tenant')} GROUP BY 1, 2, 3, 4`;
  const calls = counter(
    registry,
    'qlp_llm_calls_total',
    'LLM calls from the spend ledger, by state (settled, cached, failed, timed_out, reserved)',
    ['tenant', 'provider', 'model', 'state'],
  );
  const tokens = counter(registry, 'qlp_llm_tokens_total', 'LLM tokens used (cache hits count none)', [
    'tenant',
    'provider',
    'model',
    'kind',
  ]);
  const cost = counter(registry, 'qlp_llm_cost_usd_total', 'LLM cost in US dollars (models with a known price)', [
    'tenant',
    'provider',
    'model',
  ]);
  const hitRatio = gauge(
    registry,
    'qlp_llm_cache_hit_ratio',
    'Share of answered LLM calls served by the response cache',
    ['tenant'],
  );
  const answered = new Map<string, { calls: number; hits: number }>();
  for (const row of rows) {
    const labels = { tenant: row.tenant ?? 'unknown', provider: row.provider, model: row.model };
    const counted = row.state !== 'cached';
    calls.inc({ ...labels, state: row.state }, Number(row.n));
    tokens.inc({ ...labels, kind: 'prompt' }, counted ? Number(row.prompt ?? 0) : 0);
    tokens.inc({ ...labels, kind: 'completion' }, counted ? Number(row.completion ?? 0) : 0);
    cost.inc(labels, counted ? (row.cost ?? 0) : 0);
    if (row.state === 'settled' || row.state === 'cached') {
      const tally = answered.get(labels.tenant) ?? { calls: 0, hits: 0 };
      tally.calls += Number(row.n);
      if (row.state === 'cached') tally.hits += Number(row.n);
      answered.set(labels.tenant, tally);
    }
  }
  for (const [tenant, { calls: n, hits }] of answered) hitRatio.set({ tenant }, n ? hits / n : 0);
}

/** Open gates per tenant and the oldest one's age: it opened when its intent last began to wait for a decision. */
export async function openGates(db: Database, scope: MetricsScope) {
  return db.$queryRaw<{ tenant: string; open: bigint; oldest: number | null }[]>`
    SELECT i.tenant, COUNT(*) AS open,
           MAX(EXTRACT(EPOCH FROM now() - COALESCE(g.opened_at, i.updated_at)))::float8 AS oldest
    FROM intents i
    LEFT JOIN LATERAL (
      SELECT MAX(created_at) AS opened_at FROM audit_events e
      WHERE e.intent_id = i.id AND e.type = 'intent.awaiting_approval'
    ) g ON TRUE
    WHERE i.status = 'AWAITING_APPROVAL' AND ${scopeWhere(scope)('i.tenant')} GROUP BY 1`;
}

async function gateMetrics(db: Database, registry: Registry, scope: MetricsScope) {
  const rows = await openGates(db, scope);
  const open = gauge(registry, 'qlp_gates_open', 'Intents waiting at the human gate', ['tenant']);
  const oldest = gauge(
    registry,
    'qlp_gate_oldest_open_seconds',
    'Age of the oldest open gate (since the intent began waiting for a decision)',
    ['tenant'],
  );
  for (const row of rows) {
    open.set({ tenant: row.tenant }, Number(row.open));
    oldest.set({ tenant: row.tenant }, Math.max(0, row.oldest ?? 0));
  }
}

async function webhookMetrics(db: Database, registry: Registry, where: Where) {
  const rows = await db.$queryRaw<{ tenant: string; status: string; n: bigint }[]>`
    SELECT tenant, status::text AS status, COUNT(*) AS n FROM webhook_deliveries WHERE ${where('tenant')} GROUP BY 1, 2`;
  const deliveries = gauge(
    registry,
    'qlp_webhook_deliveries',
    'Webhook deliveries by status (PENDING, DELIVERED, DEAD)',
    ['tenant', 'status'],
  );
  const dead = counter(
    registry,
    'qlp_webhook_dead_letters_total',
    'Webhook deliveries dead-lettered after their last attempt',
    ['tenant'],
  );
  for (const row of rows) {
    deliveries.set({ tenant: row.tenant, status: row.status }, Number(row.n));
    dead.inc({ tenant: row.tenant }, row.status === 'DEAD' ? Number(row.n) : 0);
  }
}

/** Work refused for money or quota: intents failed by their LLM budget, submissions refused by a quota. */
async function refusalMetrics(db: Database, registry: Registry, where: Where, tenants: string[]) {
  const [budget, quota] = await Promise.all([
    db.$queryRaw<{ tenant: string; n: bigint }[]>`
      SELECT tenant, COUNT(*) AS n FROM intents
      WHERE status = 'FAILED' AND status_reason ILIKE '%budget exceeded%' AND ${where('tenant')} GROUP BY 1`,
    db.$queryRaw<{ tenant: string; n: bigint }[]>`
      SELECT tenant, COUNT(*) AS n FROM audit_events
      WHERE type = 'quota.refused' AND tenant IS NOT NULL AND ${where('tenant')} GROUP BY 1`,
  ]);
  const refusals = counter(
    registry,
    'qlp_budget_refusals_total',
    'Refusals: intents stopped by their LLM budget (kind=budget), submissions refused by a tenant quota (kind=quota)',
    ['tenant', 'kind'],
  );
  for (const tenant of tenants) for (const kind of ['budget', 'quota']) refusals.inc({ tenant, kind }, 0);
  for (const row of budget) refusals.inc({ tenant: row.tenant, kind: 'budget' }, Number(row.n));
  for (const row of quota) refusals.inc({ tenant: row.tenant, kind: 'quota' }, Number(row.n));
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]) {
  return new Gauge<L>({ name, help, labelNames, registers: [registry] });
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]) {
  return new Counter<L>({ name, help, labelNames, registers: [registry] });
}

interface HistogramQuery {
  name: string;
  help: string;
  /** The label (besides tenant) the values are grouped by. */
  label: string;
  buckets: number[];
  /** A query of rows (tenant, label, value). */
  values: Prisma.Sql;
  /**
   * Series present at 0 before their first value: rate() and increase() miss an observation when its
   * series appears already counting it (a tenant's first validated intent).
   */
  zeroFill: { tenants: string[]; labels: readonly string[] };
}

/**
 * A histogram whose buckets PostgreSQL counts (prom-client's Histogram only observes values one by one,
 * and a scrape should not fetch every intent): the cumulative `le` counts, sum and count per tenant and label.
 */
async function histogram(db: Database, query: HistogramQuery): Promise<Metric> {
  // The bucket bounds are our constants (numbers), never input: safe to write into the query.
  const counts = Prisma.raw(query.buckets.map((le) => `COUNT(*) FILTER (WHERE v.value <= ${Number(le)})`).join(', '));
  const rows = await db.$queryRaw<{ tenant: string; label: string; n: bigint; sum: number; buckets: bigint[] }[]>`
    SELECT v.tenant, v.label, COUNT(*) AS n, COALESCE(SUM(v.value), 0)::float8 AS sum, ARRAY[${counts}] AS buckets
    FROM (${query.values}) v GROUP BY 1, 2`;
  const present = new Set(rows.map((row) => `${row.tenant}\n${row.label}`));
  for (const tenant of query.zeroFill.tenants) {
    for (const label of query.zeroFill.labels) {
      if (present.has(`${tenant}\n${label}`)) continue;
      rows.push({ tenant, label, n: 0n, sum: 0, buckets: query.buckets.map(() => 0n) });
    }
  }
  const values = rows.flatMap((row) => {
    const labels = { tenant: row.tenant, [query.label]: row.label };
    return [
      ...query.buckets.map((le, i) => ({
        metricName: `${query.name}_bucket`,
        labels: { ...labels, le },
        value: Number(row.buckets[i]),
      })),
      { metricName: `${query.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: Number(row.n) },
      { metricName: `${query.name}_sum`, labels, value: row.sum },
      { metricName: `${query.name}_count`, labels, value: Number(row.n) },
    ];
  });
  // Shaped as prom-client's own metrics are, so the registry renders it like any histogram.
  const snapshot = {
    name: query.name,
    help: query.help,
    type: 'histogram',
    aggregator: 'sum',
    get: () => Promise.resolve({ name: query.name, help: query.help, type: 'histogram', aggregator: 'sum', values }),
  };
  return snapshot as unknown as Metric;
}
