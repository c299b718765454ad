import type { IntentProjection } from '../../contracts/state';
import type { WebhookEventType } from '../../contracts/webhooks';

// Which webhook events an intent's read-model write stands for. Each write appends one audit event
// (adapters/db/read-model.ts); the webhook events derived from it go to the outbox in the same transaction.

export interface WebhookEventDraft {
  type: WebhookEventType;
  data: Record<string, unknown>;
}

/** The webhook events of one write, by its audit event's type (none for most steps). */
export function webhookEventsOf(p: IntentProjection): WebhookEventDraft[] {
  const audit = p.audit.data ?? {};
  switch (p.audit.type) {
    // The workflow's first write: the API's submission itself writes no audit event.
    case 'intent.planning':
      return [{ type: 'intent.submitted', data: { status: p.status } }];
    case 'intent.executing':
      return planReady(p);
    case 'intent.awaiting_approval':
      // At the plan gate the plan is recorded as the gate opens: it is ready for review before any task runs.
      return [...(p.gate?.id === 'plan' ? planReady(p) : []), { type: 'gate.opened', data: { gate: gateSummary(p) } }];
    case 'intent.gate_reminder':
      return [{ type: 'gate.reminder', data: { ...audit, gate: gateSummary(p) } }];
    case 'intent.gate_escalated':
      return [{ type: 'gate.escalated', data: { ...audit, gate: gateSummary(p) } }];
    case 'intent.plan_approved':
    case 'intent.changes_requested':
      return [{ type: 'gate.decided', data: pastGateDecided(p) }];
    case 'intent.approved':
    case 'intent.rejected': {
      const decision = p.gate?.decision;
      return [
        {
          type: 'gate.decided',
          data: {
            gate: p.gate?.id ?? 'release',
            status: p.status,
            decision: decision?.decision ?? (p.audit.type === 'intent.approved' ? 'approve' : 'reject'),
            approver: decision?.approver ?? p.audit.actor,
            via: decision?.via ?? audit.via ?? null,
            reason: decision?.reason ?? p.reason ?? null,
            decidedAt: decision?.decidedAt ?? null,
          },
        },
      ];
    }
    case 'intent.completed':
      return [
        { type: 'intent.completed', data: { status: p.status } },
        ...(p.capsule
          ? [
              {
                type: 'capsule.ready' as const,
                data: {
                  capsuleId: p.capsule.capsuleId,
                  version: p.capsule.version,
                  sha256: p.capsule.sha256,
                  sizeBytes: p.capsule.size,
                  fileCount: p.capsule.fileCount,
                  format: p.capsule.format ?? 'quantumcapsule/v1',
                  download: `/api/v1/capsules/${p.capsule.capsuleId}/download`,
                },
              },
            ]
          : []),
      ];
    case 'intent.failed':
      return [{ type: 'intent.failed', data: { status: p.status, reason: p.reason ?? null } }];
    default:
      return [];
  }
}

/** What a receiver needs of an open gate: which, until when, what digest, how many approvals. */
function gateSummary(p: IntentProjection): Record<string, unknown> {
  const gate = p.gate;
  return {
    id: gate?.id ?? 'release',
    state: gate?.state ?? null,
    deadline: gate?.deadline ?? null,
    digest: gate?.digest ?? null,
    required: gate?.required ?? null,
  };
}

/** gate.decided for a gate that led on (the plan approved, changes requested): the gate as it was decided. */
function pastGateDecided(p: IntentProjection): Record<string, unknown> {
  const decision = p.gate?.decision;
  return {
    gate: p.gate?.id ?? 'release',
    ...(p.gate?.version && { version: p.gate.version }),
    status: p.status,
    decision: decision?.decision ?? (p.audit.type === 'intent.plan_approved' ? 'approve' : 'request_changes'),
    approver: decision?.approver ?? p.audit.actor,
    via: decision?.via ?? null,
    reason: decision?.reason ?? null,
    decidedAt: decision?.decidedAt ?? null,
    ...(decision?.changes && { changes: decision.changes }),
    ...(decision?.planEdit && { planEdit: decision.planEdit }),
  };
}

/** plan.ready: the plan as recorded, before any task runs. */
function planReady(p: IntentProjection): WebhookEventDraft[] {
  if (!p.plan) return [];
  const { projectName, planner, tasks } = p.plan;
  const data = { projectName, planner, tasks: tasks.map(({ id, type, description }) => ({ id, type, description })) };
  return [{ type: 'plan.ready', data }];
}
