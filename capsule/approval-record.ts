import type { ApprovalRecord } from '../contracts/capsule';
import type { DecisionRecord, PastGate } from '../contracts/decision';
import type { ApprovalPolicy } from '../contracts/workflow';

/** approval.json: the decision as the gate recorded it, and the policy it was taken under. */
export function approvalRecord(
  intentId: string,
  decision: DecisionRecord,
  policy: Pick<ApprovalPolicy, 'required' | 'allowSelfApproval'> | undefined,
  submittedBy: string | undefined,
  versions?: { version: number; history?: PastGate[] },
): ApprovalRecord {
  // Gates before identities took one plain decision: the approver is the name given, unauthenticated.
  const approvers = decision.approvals ?? [
    {
      decision: decision.decision,
      subject: decision.approver,
      name: decision.approver,
      roles: [],
      tenants: [],
      method: 'unauthenticated' as const,
      via: decision.via,
      digest: decision.digest,
      reason: decision.reason,
      decidedAt: decision.decidedAt ?? '1970-01-01T00:00:00.000Z',
    },
  ];
  return {
    schemaVersion: 1,
    intentId,
    decision: decision.decision,
    via: decision.via,
    decidedAt: decision.decidedAt ?? null,
    ...(versions?.history?.length && { version: versions.version, history: versions.history.map(pastEntry) }),
    digest: decision.digest ?? null,
    authenticated: decision.authenticated ?? false,
    policy: {
      required: policy?.required ?? 1,
      selfApproval: policy?.allowSelfApproval ?? true,
      submittedBy: submittedBy ?? null,
    },
    approvers: approvers.map((a) => ({
      subject: a.subject,
      name: a.name,
      roles: a.roles,
      method: a.method,
      via: a.via,
      decidedAt: a.decidedAt,
      digest: a.digest ?? null,
      reason: a.reason ?? null,
    })),
  };
}

/** An earlier gate as approval.json lists it: which, what was decided, by whom, and what changes were asked for. */
function pastEntry(past: PastGate): NonNullable<ApprovalRecord['history']>[number] {
  const { decision } = past;
  return {
    gate: past.id,
    version: past.version ?? null,
    decision: decision.decision,
    by: decision.approver,
    decidedAt: decision.decidedAt ?? null,
    digest: past.digest ?? null,
    reason: decision.reason ?? null,
    changes: (decision.changes ?? []).map((c) => ({ task: c.task ?? null, file: c.file ?? null, comment: c.comment })),
  };
}
