import type { IntentProjection, ProjectionRun, TaskProjection } from '../../contracts/state';
import { terminalStatuses } from '../../contracts/intent';
import { Prisma } from '../../generated/prisma/client';
import { webhookEventsOf } from '../webhooks/events';
import { enqueueWebhookEvents } from '../webhooks/outbox';
import { appendAuditEvents } from './audit';
import type { Database } from './client';

const json = (value: unknown) => value as Prisma.InputJsonValue;
/** A JSON column's new value: absent leaves it, null clears it. */
const jsonOrNull = (value: unknown) => (value === null ? Prisma.DbNull : json(value));

// The PostgreSQL read model, kept in step with the workflows. Writes follow the workflow's current
// run: within one run they are ordered by `seq`, between runs (a reset, a retry from the Web UI, a
// continue-as-new) by the step's workflow time. So a retried or replayed call changes nothing, an
// older run's late write never overwrites a newer run's state, and a new run's writes apply although
// its `seq` starts again. Audit events have deterministic keys per run and step.

/** What a row remembers of the last write applied to it. */
export interface RowClock {
  runId: string | null;
  seq: number;
  stepAt: Date | null;
}

/**
 * The ordering rule: does `write` supersede what the row holds? The same run (or a row no run has
 * written yet, or a write from code older than run tracking): a higher `seq`. Another run: a later
 * workflow time than the row's last write, so the run that took over wins and a run it replaced
 * cannot come back with a late write.
 */
export function supersedes(write: { seq: number; run?: ProjectionRun }, row: RowClock): boolean {
  if (!write.run || row.runId === null || row.runId === write.run.id) return write.seq > row.seq;
  return row.stepAt === null || new Date(write.run.at).getTime() > row.stepAt.getTime();
}

const clockOf = (p: { seq: number; run?: ProjectionRun }) => ({
  seq: p.seq,
  ...(p.run && { runId: p.run.id, stepAt: new Date(p.run.at) }),
});

interface LockedIntent extends RowClock {
  status: string;
  tenant: string;
}

/** The key of the audit event a write appends: per run and step, so a retried write has the same. */
export function intentAuditEventKey(p: Pick<IntentProjection, 'intentId' | 'seq' | 'run'>): string {
  return `${p.run ? `${p.intentId}:${p.run.id}` : p.intentId}:${p.seq}`;
}

/**
 * An intent's status, plan, validation, gate, capsule and audit event, as of projection `seq` of its run,
 * and the webhook deliveries of that event (the outbox: adapters/webhooks/outbox.ts).
 */
export async function recordIntent(db: Database, p: IntentProjection): Promise<void> {
  const now = new Date();
  await db.$transaction(async (tx) => {
    // Locked: the current run's write and an older run's late one may arrive together.
    const [row] = await tx.$queryRaw<LockedIntent[]>`
      SELECT run_id AS "runId", seq, step_at AS "stepAt", status::text AS status, tenant
      FROM intents WHERE id = ${p.intentId}::uuid FOR UPDATE`;
    // No row (a workflow started without the API), a duplicate, or a write a newer run superseded.
    if (!row || !supersedes(p, row)) return;
    const replaced = p.run !== undefined && row.runId !== null && row.runId !== p.run.id;

    await tx.intent.update({
      where: { id: p.intentId },
      data: {
        ...clockOf(p),
        status: p.status,
        statusReason: p.reason ?? null,
        ...(p.plan && { plan: json(p.plan) }),
        ...(p.validation !== undefined && { validation: jsonOrNull(p.validation) }),
        ...(p.gate !== undefined && { gate: jsonOrNull(p.gate) }),
        completedAt: terminalStatuses.includes(p.status) ? now : null,
      },
    });
    if (p.plan) {
      // A plan is applied once per run, before any of its tasks start: a run that planned again (after
      // a reset to before planning) replaces the old run's tasks.
      await tx.task.deleteMany({ where: { intentId: p.intentId } });
      await tx.task.createMany({
        data: p.plan.tasks.map((task) => ({
          intentId: p.intentId,
          taskId: task.id,
          type: task.type,
          description: task.description,
          dependencies: task.dependencies,
          priority: task.priority,
          ...(p.run && { runId: p.run.id, stepAt: new Date(p.run.at) }),
        })),
      });
    }
    if (p.capsule) {
      const capsule = {
        id: p.capsule.capsuleId,
        version: p.capsule.version,
        bucket: p.capsule.bucket,
        objectKey: p.capsule.key,
        sha256: p.capsule.sha256,
        sizeBytes: BigInt(p.capsule.size),
        fileCount: p.capsule.fileCount,
        format: p.capsule.format ?? 'quantumcapsule/v1',
        keyId: p.capsule.keyId ?? null,
        verdict: p.capsule.verdict ?? null,
        frameworks: p.capsule.frameworks ? json(p.capsule.frameworks) : Prisma.DbNull,
        metadata: p.capsule.metadata ? json(p.capsule.metadata) : Prisma.DbNull,
        ...(p.capsule.createdAt && { createdAt: new Date(p.capsule.createdAt) }),
      };
      // One capsule per version of an intent: a new run that packaged the same version again replaces it.
      await tx.capsule.upsert({
        where: { intentId_version: { intentId: p.intentId, version: p.capsule.version } },
        create: { ...capsule, intentId: p.intentId },
        update: capsule,
      });
    }
    const key = p.run ? `${p.intentId}:${p.run.id}` : p.intentId;
    const event = { tenant: row.tenant, intentId: p.intentId, actor: 'workflow' };
    // On the intent's hash chain, in this transaction; a retried write records nothing new (same keys).
    await appendAuditEvents(tx, [
      ...(replaced
        ? [
            {
              ...event,
              eventKey: `${key}:run`,
              type: 'intent.run_replaced',
              data: {
                previousRunId: row.runId,
                runId: p.run!.id,
                cause: p.run!.startedBy ?? 'new run',
                previousStatus: row.status,
                status: p.status,
              },
            },
          ]
        : []),
      {
        ...event,
        eventKey: intentAuditEventKey(p),
        type: p.audit.type,
        actor: p.audit.actor,
        data: { status: p.status, ...(p.reason && { reason: p.reason }), ...p.audit.data },
      },
    ]);
    // Committed with the audit event, or not at all; the activity starts their workflows after the commit.
    const source = { tenant: row.tenant, intentId: p.intentId, auditEventKey: intentAuditEventKey(p), occurredAt: now };
    await enqueueWebhookEvents(tx, source, webhookEventsOf(p));
  });
}

/** A task's state, attempt, timings and artifact, as of projection `seq` of the run that wrote it. */
export async function recordTask(db: Database, p: TaskProjection): Promise<void> {
  const now = new Date();
  const finished = p.state === 'COMPLETED' || p.state === 'FAILED' || p.state === 'CANCELLED';
  await db.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<RowClock[]>`
      SELECT run_id AS "runId", seq, step_at AS "stepAt"
      FROM tasks WHERE intent_id = ${p.intentId}::uuid AND task_id = ${p.taskId} FOR UPDATE`;
    if (!row || !supersedes(p, row)) return;
    await tx.task.update({
      where: { intentId_taskId: { intentId: p.intentId, taskId: p.taskId } },
      data: {
        ...clockOf(p),
        status: p.state,
        ...(p.attempt !== undefined && { attempts: p.attempt }),
        ...(p.state === 'RUNNING' && { startedAt: now }),
        ...(finished && { finishedAt: now }),
        ...(p.artifact && { artifactKey: p.artifact.manifestKey, fileCount: p.artifact.fileCount }),
        ...(p.error !== undefined && { error: p.error }),
      },
    });
  });
}
