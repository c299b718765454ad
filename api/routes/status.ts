import { Router } from 'express';
import { temporal } from '@temporalio/proto';
import { version } from '../../package.json';
import { openGates } from '../../adapters/telemetry/metrics-business';
import { validationTaskQueue } from '../../contracts/workflow';
import type { QueueView, StatusReport } from '../../contracts/status';
import { authorize } from '../auth/guard';
import type { ApiDependencies } from '../dependencies';

const { TaskQueueType, TaskQueueKind } = temporal.api.enums.v1;
const startedAt = new Date();

type Long = number | { toString(): string } | null | undefined;
const toNumber = (value: Long) => (value === null || value === undefined ? 0 : Number(value.toString()));

/**
 * GET /status: version, the workers Temporal sees polling each queue, each queue's backlog, your tenants'
 * open gates, and the services' health. Any authenticated caller (intent:read); gate counts are of the
 * caller's tenants only, queues and workers are the deployment's.
 */
export function statusRoutes(deps: ApiDependencies): Router {
  const router = Router();
  router.get('/status', async (_req, res) => {
    const principal = authorize(res, 'intent:read');
    const orchestration = deps.config.temporal.taskQueue;
    const described = [
      describe(deps, orchestration, 'orchestration', 'workflow'),
      describe(deps, orchestration, 'orchestration', 'activity'),
      describe(deps, validationTaskQueue(orchestration), 'validation', 'activity'),
    ];
    const [queues, components, intents] = await Promise.all([
      Promise.all(described),
      checkComponents(deps),
      intentCounts(deps, principal.tenants),
    ]);
    const polling = (role: QueueView['role']) => queues.some((q) => q.role === role && q.pollers.length > 0);
    const ok = components.temporal.ok && components.database.ok && components.s3.ok;
    const report: StatusReport = {
      status: ok && polling('orchestration') && polling('validation') ? 'ok' : 'degraded',
      version,
      startedAt: startedAt.toISOString(),
      uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
      components,
      workers: {
        seen: [...new Set(queues.flatMap((q) => q.pollers.map((p) => p.identity)))].sort(),
        orchestration: polling('orchestration'),
        validation: polling('validation'),
      },
      queues,
      intents: { running: intents.running, awaitingApproval: intents.open },
      gates: { open: intents.open, oldestOpenSeconds: intents.oldest },
    };
    res.json(report);
  });
  return router;
}

/** Pollers and backlog of one queue and task type (`reportStats`: approximate, from the server's matching). */
async function describe(
  deps: ApiDependencies,
  name: string,
  role: QueueView['role'],
  type: QueueView['type'],
): Promise<QueueView> {
  try {
    const answer = await deps.temporal.workflowService.describeTaskQueue({
      namespace: deps.config.temporal.namespace,
      taskQueue: { name, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType:
        type === 'workflow' ? TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW : TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      reportStats: true,
    });
    const stats = answer.stats;
    return {
      name,
      role,
      type,
      pollers: (answer.pollers ?? []).map((poller) => ({
        identity: poller.identity ?? 'unknown',
        lastAccessTime: poller.lastAccessTime
          ? new Date(
              toNumber(poller.lastAccessTime.seconds) * 1000 + (poller.lastAccessTime.nanos ?? 0) / 1e6,
            ).toISOString()
          : null,
      })),
      backlog: stats ? toNumber(stats.approximateBacklogCount) : null,
      backlogAgeSeconds: stats?.approximateBacklogAge
        ? toNumber(stats.approximateBacklogAge.seconds) + (stats.approximateBacklogAge.nanos ?? 0) / 1e9
        : null,
    };
  } catch (error) {
    return { name, role, type, pollers: [], backlog: null, backlogAgeSeconds: null, error: (error as Error).message };
  }
}

async function intentCounts(deps: ApiDependencies, tenants: string[]) {
  const [[row], gates] = await Promise.all([
    deps.db.$queryRaw<{ running: bigint }[]>`
      SELECT COUNT(*) AS running FROM intents
      WHERE status NOT IN ('COMPLETED', 'REJECTED', 'FAILED', 'CANCELLED') AND tenant = ANY(${tenants}::text[])`,
    openGates(deps.db, { tenants }),
  ]);
  const ages = gates.map((gate) => gate.oldest ?? 0);
  return {
    running: Number(row?.running ?? 0),
    open: gates.reduce((sum, gate) => sum + Number(gate.open), 0),
    oldest: ages.length ? Math.max(0, ...ages) : null,
  };
}

async function checkComponents(deps: ApiDependencies): Promise<StatusReport['components']> {
  const [temporalCheck, database, s3] = await Promise.all([
    timed(() => deps.temporal.workflowService.getSystemInfo({})),
    timed(() => deps.db.$queryRaw`SELECT 1`),
    timed(async () => {
      if (!(await deps.store.bucketExists())) throw new Error(`bucket ${deps.store.bucket} does not exist`);
    }),
  ]);
  return { temporal: temporalCheck, database, s3 };
}

/** A probe's latency, or why it failed; bounded, so a hung service makes the status slow, not stuck. */
async function timed(probe: () => Promise<unknown>, timeoutMs = 3000) {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const latency = () => Math.round(performance.now() - started);
  try {
    await Promise.race([
      probe(),
      new Promise(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)),
      ),
    ]);
    return { ok: true, latencyMs: latency() };
  } catch (error) {
    return { ok: false, latencyMs: latency(), error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
