/**
 * Chaos bench (issue 11): kill -9 a worker at each point of a catalogue intent and measure how long the
 * intent takes to move again once a new worker is started, and whether any activity that had completed
 * ran again. The real stack as bench/dag.ts starts it (own Temporal dev server, SeaweedFS, PostgreSQL
 * database), the API with AUTO_APPROVE=false (the bench approves at the gate), and the orchestration and
 * validation workers as separate processes (bench/bench-worker.ts with the real offline planner and agents).
 *
 * Points: planning, tasks, type-check, static (layer 1), compliance (layer 3), sandbox (layer 2),
 * packaging (orchestration worker killed, except the validation layers: validation worker), and the
 * gate (orchestration worker killed while the intent waits; then approved). One fresh intent per point.
 * A point is detected from the server (describe: the activity pending and STARTED) and the worker's
 * activity log (the run has begun); fast activities are held 3 s on their first attempt (heartbeating,
 * before they run) so the kill lands inside them.
 *
 *   npx tsx bench/chaos.ts              saves bench/results/chaos-<date>.json
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { intentWorkflowId } from '../contracts/intent';
import { readLog, runs, type LogLine } from './activity-log';
import { activities, fetchTree } from './history';
import { decide, getIntent, loadAverage, round, Stack, submitIntent, type StackProcess } from './stack';

const TARGET_MS = 30_000;
const HOLD_MS = 3000;
const HELD = ['parseIntent', 'runAgent', 'complianceReview', 'packageCapsule'];

type Role = 'orchestration' | 'validation';
interface Point {
  name: string;
  role: Role;
  /** The activity whose run the kill lands in; none for the gate. */
  activity?: string;
  /** After the run has begun, wait this long before the kill (mid-work for the slow layers). */
  delayMs?: number;
  /** Kill only once the worker has a sandbox process (bwrap) running. */
  sandboxRunning?: boolean;
}

const POINTS: Point[] = [
  { name: 'planning', role: 'orchestration', activity: 'parseIntent', delayMs: 500 },
  { name: 'tasks', role: 'orchestration', activity: 'runAgent', delayMs: 500 },
  { name: 'type-check', role: 'validation', activity: 'validateProject', delayMs: 300 },
  { name: 'static', role: 'validation', activity: 'staticReview', delayMs: 300 },
  { name: 'compliance', role: 'validation', activity: 'complianceReview', delayMs: 500 },
  { name: 'sandbox', role: 'validation', activity: 'dynamicValidation', sandboxRunning: true },
  { name: 'packaging', role: 'orchestration', activity: 'packageCapsule', delayMs: 500 },
  { name: 'gate', role: 'orchestration' },
];
const only = process.env.CHAOS_POINTS?.split(',');
const NOUNS = ['books', 'albums', 'recipes', 'songs', 'tickets', 'invoices', 'courses', 'devices', 'cars', 'events'];

const stack = new Stack({
  portBase: 47333,
  taskQueue: 'chaos',
  env: { AUTO_APPROVE: 'false', SANDBOX_DRIVER: process.env.SANDBOX_DRIVER ?? 'bubblewrap' },
});
const logFile = (role: Role) => join(stack.logDir, `${role}.jsonl`);
const workers: Record<Role, StackProcess | undefined> = { orchestration: undefined, validation: undefined };

function startWorker(role: Role): StackProcess {
  const worker = stack.spawn(role, 'bench/bench-worker.ts', {
    WORKER_ROLES: role,
    BENCH_PLANNER: 'catalogue',
    BENCH_ACTIVITY_LOG: logFile(role),
    BENCH_HOLD_MS: String(HOLD_MS),
    BENCH_HOLD: HELD.join(','),
  });
  workers[role] = worker;
  return worker;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function status(workflowId: string): Promise<string> {
  const state = await stack.temporal.workflow.getHandle(workflowId).query<{ status: string }>('status');
  return state.status;
}

/** The workflow (intent or task child) where `activity` is pending and STARTED on the server, with its id. */
async function pendingStarted(intentWf: string, activity: string) {
  const parent = await stack.temporal.workflow.getHandle(intentWf).describe();
  const described = [parent.raw];
  if (activity === 'runAgent') {
    // Agents run in the task children; a child just initiated is not there yet.
    for (const child of parent.raw.pendingChildren ?? []) {
      if (!child.workflowId) continue;
      const found = await stack.temporal.workflow
        .getHandle(child.workflowId)
        .describe()
        .catch(() => undefined);
      if (found) described.push(found.raw);
    }
  }
  for (const raw of described) {
    for (const pending of raw.pendingActivities ?? []) {
      // PENDING_ACTIVITY_STATE_STARTED = 2
      if (pending.activityType?.name === activity && Number(pending.state) === 2 && pending.activityId) {
        return {
          workflowId: raw.workflowExecutionInfo?.execution?.workflowId ?? intentWf,
          activityId: pending.activityId,
        };
      }
    }
  }
  return undefined;
}

/** Processes below `pid` (children, grandchildren …) with their command names, from /proc. */
function descendants(pid: number): { pid: number; comm: string }[] {
  const all: { pid: number; ppid: number; comm: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      all.push({ pid: Number(entry), ppid, comm });
    } catch {
      // gone meanwhile
    }
  }
  const out: { pid: number; comm: string }[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const p of all.filter((q) => q.ppid === parent)) {
      out.push({ pid: p.pid, comm: p.comm });
      queue.push(p.pid);
    }
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The worker's log shows the run begun (and not ended) in the process we are about to kill. */
function runBegun(role: Role, pid: number, workflowId: string, activityId: string): boolean {
  const mine = runs(readLog(logFile(role))).filter((r) => r.pid === pid && r.wf === workflowId && r.id === activityId);
  return mine.some((r) => !r.end);
}

/** Close time of the activity (by id) in the workflow's history, once it has completed. */
async function completedAt(workflowId: string, activityId: string): Promise<number | undefined> {
  const history = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
  const execution = activities([{ workflowId, events: history.events ?? [] }]).find(
    (a) => a.activityId === activityId && a.outcome === 'completed',
  );
  return execution?.closedMs;
}

async function auditAt(intentId: string, type: string): Promise<number | undefined> {
  const { rows } = await stack.pg.query<{ created_at: Date }>(
    'SELECT created_at FROM audit_events WHERE intent_id = $1 AND type = $2',
    [intentId, type],
  );
  return rows[0]?.created_at.getTime();
}

function reapedBy(worker: StackProcess): number | undefined {
  const line = /\((\d+) leftovers removed\)/.exec(readFileSync(worker.logFile, 'utf8'));
  return line ? Number(line[1]) : undefined;
}

interface PointResult {
  point: string;
  killed: string;
  intentId: string;
  statusAtKill: string;
  inFlightAtKill: string[];
  recoveryMs: number;
  killToMovedMs: number;
  workerReadyMs: number;
  readyToMovedMs: number;
  retryStartedAfterKillMs?: number;
  retryAttempt?: number;
  retryRunMs?: number;
  approveRequestMs?: number;
  withinTarget: boolean;
  finalStatus: string;
  layer2: string;
  sandboxProcessesAtKill?: number;
  sandboxProcessesAliveAfterKill?: number;
  sandboxSurvivors?: string;
  sandboxLeftoversReapedAtRestart?: number;
}

async function runPoint(point: Point, index: number, tries = 3): Promise<PointResult> {
  const text = `A REST API for ${NOUNS[index % NOUNS.length]} with title and author`;
  const { id } = await submitIntent(stack.api, text);
  const workflowId = intentWorkflowId(id);
  const victim = workers[point.role]!;
  let target: { workflowId: string; activityId: string } | undefined;
  let seen: typeof target;
  if (point.activity) {
    target = await waitFor(`${point.name}: ${point.activity} started`, async () => {
      // Packaging comes after the gate: approve on the way.
      if (point.activity === 'packageCapsule' && (await status(workflowId)) === 'AWAITING_APPROVAL') {
        await decide(stack.api, id, 'approve');
      }
      // Once seen running, an activity that has ended is taken too: the check after the kill starts over.
      if (seen && !runBegun(point.role, victim.pid, seen.workflowId, seen.activityId)) return seen;
      const pending = await pendingStarted(workflowId, point.activity!);
      if (!pending || !runBegun(point.role, victim.pid, pending.workflowId, pending.activityId)) return undefined;
      seen = pending;
      if (point.sandboxRunning && !descendants(victim.pid).some((p) => p.comm === 'bwrap')) return undefined;
      return pending;
    });
    await sleep(point.delayMs ?? 0);
  } else {
    await waitFor('the gate', async () => ((await status(workflowId)) === 'AWAITING_APPROVAL' ? true : undefined));
  }
  const sandboxProcesses = descendants(victim.pid).filter((p) => p.comm === 'bwrap' || p.comm === 'node');
  const statusAtKill = await status(workflowId);
  victim.kill('SIGKILL');
  const killedAt = Date.now();
  // The kill must land inside the point's activity; if it had just ended, try again with a new intent.
  if (target && !runBegun(point.role, victim.pid, target.workflowId, target.activityId)) {
    console.log(`${point.name}: ${point.activity} ended before the kill; again with a new intent`);
    await new Promise<void>((resolve) => (victim.exited ? resolve() : victim.child.once('exit', () => resolve())));
    startWorker(point.role);
    await workers[point.role]!.ready();
    if (tries <= 1) throw new Error(`${point.name}: could not land a kill inside ${point.activity}`);
    return runPoint(point, index + NOUNS.length, tries - 1);
  }
  const inFlight = runs(readLog(logFile(point.role)))
    .filter((r) => r.pid === victim.pid && !r.end)
    .map((r) => `${r.type}${r.wf === workflowId ? '' : ` (${r.wf.split('/').pop()})`}`);
  await new Promise<void>((resolve) => (victim.exited ? resolve() : victim.child.once('exit', () => resolve())));
  await sleep(200);
  const sandboxSurvivors = sandboxProcesses.filter((p) => alive(p.pid)).map((p) => p.comm);
  const replacement = startWorker(point.role);
  const spawnedAt = Date.now();
  let movedAt: number;
  let approveMs: number | undefined;
  if (target) {
    const { workflowId: wf, activityId } = target;
    movedAt = await waitFor(`${point.name}: ${point.activity} completed`, () => completedAt(wf, activityId));
  } else {
    await replacement.ready();
    const asked = Date.now();
    const response = await decide(stack.api, id, 'approve');
    approveMs = Date.now() - asked;
    if (!response.ok) throw new Error(`approve answered ${response.status}: ${await response.text()}`);
    movedAt = await waitFor('approval recorded', () => auditAt(id, 'intent.approved'));
  }
  const readyAt = await replacement.ready();
  const readyEpoch = spawnedAt + (readyAt - replacement.startedAt);
  // The killed activity's next attempt, from the new worker's log: when the server handed it out again, how long it ran.
  const retry = target
    ? runs(readLog(logFile(point.role))).find(
        (r) => r.wf === target.workflowId && r.id === target.activityId && r.pid === replacement.pid,
      )
    : undefined;
  // Drive the intent to its end: approve at the gate, wait for the capsule.
  const final = await waitFor(
    `${point.name}: intent finished`,
    async () => {
      const s = await status(workflowId);
      if (s === 'AWAITING_APPROVAL') await decide(stack.api, id, 'approve');
      return ['COMPLETED', 'REJECTED', 'FAILED', 'CANCELLED'].includes(s) ? s : undefined;
    },
    300_000,
  );
  const view = await getIntent<{ validation?: { dynamic?: { status: string; outcome?: string } } }>(stack.api, id);
  const result: PointResult = {
    point: point.name,
    killed: `${point.role} worker (pid ${victim.pid})`,
    intentId: id,
    statusAtKill,
    inFlightAtKill: inFlight,
    recoveryMs: Math.round(movedAt - spawnedAt),
    killToMovedMs: Math.round(movedAt - killedAt),
    workerReadyMs: Math.round(readyEpoch - spawnedAt),
    readyToMovedMs: Math.round(movedAt - readyEpoch),
    ...(retry && {
      retryStartedAfterKillMs: retry.start.t - killedAt,
      retryAttempt: retry.attempt,
      retryRunMs: retry.end ? retry.end.t - retry.start.t : undefined,
    }),
    ...(approveMs !== undefined && { approveRequestMs: approveMs }),
    withinTarget: movedAt - spawnedAt <= TARGET_MS,
    finalStatus: final,
    layer2: view.validation?.dynamic
      ? `${view.validation.dynamic.status}:${view.validation.dynamic.outcome ?? ''}`
      : 'absent',
    ...(point.role === 'validation' && {
      sandboxProcessesAtKill: sandboxProcesses.length,
      sandboxProcessesAliveAfterKill: sandboxSurvivors.length,
      ...(sandboxSurvivors.length && { sandboxSurvivors: sandboxSurvivors.join(', ') }),
      sandboxLeftoversReapedAtRestart: reapedBy(replacement),
    }),
  };
  console.log(
    `${point.name.padEnd(11)} recovery ${round(result.recoveryMs / 1000)} s (kill→moved ${round(result.killToMovedMs / 1000)} s, worker ready after ${round(result.workerReadyMs / 1000)} s) → ${final}; in flight: ${inFlight.join(', ') || '—'}`,
  );
  return result;
}

/** Every activity of the intents: completed more than once per scheduled id, scheduled twice, retried; and from the logs, completed runs repeated. */
async function reexecutions(intentIds: string[]) {
  const lines: LogLine[] = [...readLog(logFile('orchestration')), ...readLog(logFile('validation'))];
  const mine = new Set(intentIds.map(intentWorkflowId));
  const inIntent = (wf: string) => mine.has(wf.split('/')[0]!);
  const completions = new Map<string, { type: string; local: boolean; ends: number; pids: Set<number> }>();
  for (const run of runs(lines)) {
    if (!run.end || run.end.ev !== 'end' || !inIntent(run.wf)) continue;
    const key = `${run.wf}#${run.id}`;
    const entry = completions.get(key) ?? { type: run.type, local: run.start.local, ends: 0, pids: new Set() };
    entry.ends++;
    entry.pids.add(run.pid);
    completions.set(key, entry);
  }
  const repeated = [...completions.entries()].filter(([, c]) => c.ends > 1);
  const histories = (await Promise.all(intentIds.map((id) => fetchTree(stack.temporal, intentWorkflowId(id))))).flat();
  const executions = activities(histories);
  const scheduledPerId = new Map<string, number>();
  for (const a of executions) {
    const key = `${a.workflowId}#${a.activityId}`;
    scheduledPerId.set(key, (scheduledPerId.get(key) ?? 0) + 1);
  }
  // ActivityTaskCompleted events per scheduled event, straight from the histories.
  const completedPerScheduled = new Map<string, number>();
  for (const { workflowId, events } of histories) {
    for (const event of events) {
      const scheduled = event.activityTaskCompletedEventAttributes?.scheduledEventId;
      if (scheduled === undefined || scheduled === null) continue;
      const key = `${workflowId}#${String(scheduled)}`;
      completedPerScheduled.set(key, (completedPerScheduled.get(key) ?? 0) + 1);
    }
  }
  return {
    activitiesScheduled: executions.length,
    maxCompletedEventsPerScheduledActivity: Math.max(0, ...completedPerScheduled.values()),
    activityIdsScheduledTwice: [...scheduledPerId.values()].filter((n) => n > 1).length,
    retriedActivities: executions
      .filter((a) => (a.attempt ?? 1) > 1)
      .map((a) => `${a.type} attempt ${a.attempt} (${a.workflowId.split('/').pop()})`),
    completedThenRanAgain: repeated
      .filter(([, c]) => !c.local)
      .map(([key, c]) => ({ activity: key, type: c.type, completedRuns: c.ends, processes: c.pids.size })),
    localActivitiesCompletedThenRanAgain: repeated
      .filter(([, c]) => c.local)
      .map(([key, c]) => ({ activity: key, type: c.type, completedRuns: c.ends })),
  };
}

async function main() {
  console.log(`chaos stack in ${stack.config.dataDir}; load ${loadAverage()}`);
  const loadStart = loadAverage();
  await stack.start();
  let ok = false;
  try {
    await stack.startApi();
    startWorker('orchestration');
    startWorker('validation');
    await Promise.all([workers.orchestration!.ready(), workers.validation!.ready()]);
    // warm-up: one intent through to its capsule
    {
      const { id } = await submitIntent(stack.api, 'A REST API for books with title and author');
      await waitFor(
        'warm-up',
        async () => {
          const s = await status(intentWorkflowId(id));
          if (s === 'AWAITING_APPROVAL') await decide(stack.api, id, 'approve');
          return s === 'COMPLETED' ? s : undefined;
        },
        300_000,
      );
    }
    const results = [];
    for (const [i, point] of POINTS.entries()) {
      if (only && !only.includes(point.name)) continue;
      results.push(await runPoint(point, i + 1));
    }
    const checks = await reexecutions(results.map((r) => r.intentId));
    const report = {
      date: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        node: process.version,
        loadAverage: { atStart: loadStart, atEnd: loadAverage() },
      },
      settings: {
        sandbox: stack.config.sandbox.driver,
        processes:
          'API (AUTO_APPROVE=false), orchestration worker, validation worker (bench/bench-worker.ts, catalogue planner)',
        holdMs: HOLD_MS,
        held: HELD,
        heldNote: 'held activities wait (heartbeating) before running, first attempt only, so the kill lands in them',
        recovery:
          'recoveryMs: new worker spawned → the killed activity completed (history event time) or, at the gate, the approval recorded (audit)',
        targetMs: TARGET_MS,
      },
      points: results,
      summary: {
        maxRecoveryMs: Math.max(...results.map((r) => r.recoveryMs)),
        pointsOverTarget: results.filter((r) => !r.withinTarget).map((r) => r.point),
        allCompleted: results.every((r) => r.finalStatus === 'COMPLETED'),
      },
      reexecution: checks,
    };
    console.log('');
    const rows = results.map((r) => [
      r.point,
      `${round(r.recoveryMs / 1000)} s`,
      `${round(r.killToMovedMs / 1000)} s`,
      `${round(r.workerReadyMs / 1000)} s`,
      r.retryStartedAfterKillMs === undefined ? '—' : `${round(r.retryStartedAfterKillMs / 1000)} s`,
      r.retryRunMs === undefined ? '—' : `${round(r.retryRunMs / 1000)} s`,
      r.withinTarget ? 'ok' : 'OVER',
      r.finalStatus,
      r.inFlightAtKill.join(', ') || '—',
    ]);
    const head = [
      'point',
      'recovery',
      'kill→moved',
      'ready',
      'kill→retry',
      'retry run',
      '≤30 s',
      'final',
      'in flight at kill',
    ];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    for (const row of [head, ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
    console.log(
      `\ncompleted then ran again: ${checks.completedThenRanAgain.length} activities, ${checks.localActivitiesCompletedThenRanAgain.length} local (read-model writes); ids scheduled twice: ${checks.activityIdsScheduledTwice}; retries: ${checks.retriedActivities.length}`,
    );
    for (const r of results.filter((r) => r.sandboxProcessesAtKill)) {
      console.log(
        `${r.point}: ${r.sandboxProcessesAtKill} sandbox processes at the kill, ${r.sandboxProcessesAliveAfterKill} alive 200 ms later (${r.sandboxSurvivors ?? '—'}); the new worker reaped ${r.sandboxLeftoversReapedAtRestart ?? '?'}`,
      );
    }
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    const file = join(__dirname, 'results', `chaos-${report.date.slice(0, 19).replace(/[:T]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`saved ${file}`);
    ok = true;
  } finally {
    await stack.stop(!ok);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
