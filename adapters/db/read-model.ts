import type { IntentProjection, TaskProjection } from '../../contracts/state';
import { terminalStatuses } from '../../contracts/intent';
import type { Prisma } from '../../generated/prisma/client';
import type { Database } from './client';

const json = (value: unknown) => value as Prisma.InputJsonValue;

// The PostgreSQL read model, kept in step with the workflows. Every write is keyed by (intent, seq)
// so a retried or replayed call changes nothing: older sequence numbers are ignored and audit events
// have deterministic keys.

/** An intent's status, plan, validation, gate, capsule and audit event, as of projection `seq`. */
export async function recordIntent(db: Database, p: IntentProjection): Promise<void> {
  const now = new Date();
  await db.$transaction([
    db.intent.updateMany({
      where: { id: p.intentId, seq: { lt: p.seq } },
      data: {
        seq: p.seq,
        status: p.status,
        statusReason: p.reason ?? null,
        ...(p.plan && { plan: json(p.plan) }),
        ...(p.validation && { validation: json(p.validation) }),
        ...(p.gate && { gate: json(p.gate) }),
        ...(terminalStatuses.includes(p.status) && { completedAt: now }),
      },
    }),
    ...(p.plan
      ? [
          db.task.createMany({
            data: p.plan.tasks.map((task) => ({
              intentId: p.intentId,
              taskId: task.id,
              type: task.type,
              description: task.description,
              dependencies: task.dependencies,
              priority: task.priority,
            })),
            skipDuplicates: true,
          }),
        ]
      : []),
    ...(p.capsule
      ? [
          db.capsule.upsert({
            where: { id: p.capsule.capsuleId },
            create: {
              id: p.capsule.capsuleId,
              intentId: p.intentId,
              version: p.capsule.version,
              bucket: p.capsule.bucket,
              objectKey: p.capsule.key,
              sha256: p.capsule.sha256,
              sizeBytes: BigInt(p.capsule.size),
              fileCount: p.capsule.fileCount,
            },
            update: {},
          }),
        ]
      : []),
    db.auditEvent.createMany({
      data: [
        {
          eventKey: `${p.intentId}:${p.seq}`,
          intentId: p.intentId,
          type: p.audit.type,
          actor: p.audit.actor,
          data: json({ status: p.status, ...(p.reason && { reason: p.reason }), ...p.audit.data }),
        },
      ],
      skipDuplicates: true,
    }),
  ]);
}

/** A task's state, attempt, timings and artifact, as of projection `seq`. */
export async function recordTask(db: Database, p: TaskProjection): Promise<void> {
  const now = new Date();
  const finished = p.state === 'COMPLETED' || p.state === 'FAILED' || p.state === 'CANCELLED';
  await db.task.updateMany({
    where: { intentId: p.intentId, taskId: p.taskId, seq: { lt: p.seq } },
    data: {
      seq: p.seq,
      status: p.state,
      ...(p.attempt !== undefined && { attempts: p.attempt }),
      ...(p.state === 'RUNNING' && { startedAt: now }),
      ...(finished && { finishedAt: now }),
      ...(p.artifact && { artifactKey: p.artifact.manifestKey, fileCount: p.artifact.fileCount }),
      ...(p.error !== undefined && { error: p.error }),
    },
  });
}
