import { z } from 'zod';
import { DropRef } from './drop';
import { line, text } from './text';

/** Who decided: a person's name or address, one line. */
export const Approver = line({ max: 200 });
/** Why: free text, line breaks allowed. */
export const DecisionReason = text({ max: 2000, min: 0 });

/** What a gate decides: approve, reject, or (release gate) send the work back with comments for a new version. */
export const DecisionKind = z.enum(['approve', 'reject', 'request_changes'], {
  error: "must be 'approve', 'reject' or 'request_changes'",
});
export type DecisionKind = z.infer<typeof DecisionKind>;

/** One requested change: a comment, optionally about one task or one file (which picks the tasks that re-run). */
export const ChangeRequest = z.strictObject({
  task: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be a task id of the plan')
    .optional(),
  file: line({ max: 200 }).optional(),
  comment: text({ max: 2000 }),
});
export type ChangeRequest = z.infer<typeof ChangeRequest>;
const changes = z.array(ChangeRequest).max(50, 'must hold at most 50 changes');

/** An approver's edit of the plan at the plan gate: tasks to drop and descriptions to reword. */
export const PlanEdit = z.strictObject({
  remove: z.array(z.string().min(1).max(64)).max(100).optional(),
  describe: z
    .array(z.strictObject({ task: z.string().min(1).max(64), description: text({ max: 2000 }) }))
    .max(100)
    .optional(),
});
export type PlanEdit = z.infer<typeof PlanEdit>;

/** Reject and request changes say why; approve may. */
const reasoned = (d: { decision: DecisionKind; reason?: string }) =>
  d.decision === 'approve' || (d.reason !== undefined && d.reason.length > 0);
const reasonRule = { path: ['reason'], message: 'is required when rejecting or requesting changes' };

const decisionFields = z.strictObject({
  decision: DecisionKind,
  approver: Approver,
  reason: DecisionReason.optional(),
  changes: changes.optional(),
  planEdit: PlanEdit.optional(),
});

/** An approve/reject decision as a person sends it (API, CLI, Web UI signal, temporal CLI). */
export const DecisionInput = decisionFields.refine(reasoned, reasonRule);
export type DecisionInput = z.infer<typeof DecisionInput>;

/** What an approver sends the API: the decision, why, and the review digest they saw (`gate.digest`). */
export const DecisionRequest = z
  .strictObject({
    decision: DecisionKind,
    reason: DecisionReason.optional(),
    /** request_changes: what to change, per task or file (the comments go to the agents that re-run). */
    changes: changes.optional(),
    /** Plan gate: approve an edited plan. */
    planEdit: PlanEdit.optional(),
    digest: z
      .string({
        error: (issue) =>
          issue.input === undefined ? 'is required (the gate.digest you reviewed)' : 'must be a string',
      })
      .regex(/^[0-9a-f]{64}$/, 'must be the 64-hex-digit review digest shown as gate.digest'),
  })
  .refine(reasoned, reasonRule);
export type DecisionRequest = z.infer<typeof DecisionRequest>;

/** What the `submitDecision` update and the `decision` signal carry: a decision token the API signed. */
export const SignedDecision = z.strictObject({ token: z.string().min(1).max(16_384) });
export type SignedDecision = z.infer<typeof SignedDecision>;

/**
 * Where a decision came from: the `submitDecision` update (API/CLI), a signed `decision` signal (temporal
 * CLI), an unsigned one (Web UI/temporal CLI, where the deployment allows it), the auto-approve policy or
 * the gate's timeout.
 */
export const DecisionSource = z.enum(['update', 'signal', 'temporal-ui', 'policy', 'timeout']);
export type DecisionSource = z.infer<typeof DecisionSource>;

/** One person's approval or rejection as the gate took it: who (as authenticated), what they reviewed, when. */
export const Approval = z.object({
  decision: DecisionKind,
  subject: z.string(),
  name: z.string(),
  roles: z.array(z.string()),
  tenants: z.array(z.string()),
  /** How the API authenticated them, or `unauthenticated` for an unsigned ops signal. */
  method: z.enum(['api-key', 'oidc', 'unauthenticated']),
  via: DecisionSource,
  /** The review digest they approved (absent for unsigned signals). */
  digest: z.string().optional(),
  reason: z.string().optional(),
  changes: changes.optional(),
  planEdit: PlanEdit.optional(),
  decidedAt: z.iso.datetime(),
});
export type Approval = z.infer<typeof Approval>;

export const DecisionRecord = decisionFields.extend({
  via: DecisionSource,
  /** When the workflow took the decision (workflow time); absent in intents decided before it was recorded. */
  decidedAt: z.iso.datetime().optional(),
  /** The approvals (or the rejection) that made it, for intents whose gate verifies identities. */
  approvals: z.array(Approval).optional(),
  /** The review digest the decision is bound to. */
  digest: z.string().optional(),
  /** False when an unsigned ops signal took part. */
  authenticated: z.boolean().optional(),
});
export type DecisionRecord = z.infer<typeof DecisionRecord>;

/** A `decision` signal the gate did not take: malformed, or sent while no decision was awaited. */
export const IgnoredDecision = z.object({
  at: z.iso.datetime(),
  /** What was wrong, e.g. `approver: must be a single line without control characters (…)`. */
  reason: z.string(),
  /** As sent, made printable (controls replaced), when it was a string. */
  approver: z.string().optional(),
  /** The decision and the reason as sent, made printable, when they were strings. */
  decision: z.string().optional(),
  sentReason: z.string().optional(),
});
export type IgnoredDecision = z.infer<typeof IgnoredDecision>;

/** A gate that was decided before the one open now: the plan gate, or an earlier version at the release gate. */
export const PastGate = z.object({
  id: z.enum(['plan', 'release']),
  version: z.number().int().min(1).optional(),
  digest: z.string().optional(),
  decision: DecisionRecord,
  drop: DropRef.optional(),
});
export type PastGate = z.infer<typeof PastGate>;

/** A human gate (plan, or release before packaging): open until decided, or timed out (which rejects). */
export const GateState = z.object({
  state: z.enum(['open', 'decided', 'timed_out']),
  /** Which gate: `plan` (before any agent runs) or `release` (before packaging). Absent in intents gated before gates had ids. */
  id: z.enum(['plan', 'release']).optional(),
  /** Which version of the work is under review (release gate; 2 and up after changes were requested). */
  version: z.number().int().min(1).optional(),
  /** When an undecided gate times out (and rejects), workflow time. */
  deadline: z.iso.datetime().optional(),
  /** Roles that may decide, and whether unsigned `decision` signals count (as unauthenticated). */
  roles: z.array(z.string()).optional(),
  unsignedSignals: z.enum(['accept', 'refuse']).optional(),
  /** The escalation ladder's steps taken while the gate stayed open (workflow time). */
  remindedAt: z.iso.datetime().optional(),
  escalated: z.object({ at: z.iso.datetime(), to: z.string() }).optional(),
  /** What the timeout does: reject (the default) or cancel the intent. */
  onTimeout: z.enum(['reject', 'cancel']).optional(),
  decision: DecisionRecord.optional(),
  /** What approvers review and sign: sha256 of the files to be packaged and of the validation report. */
  digest: z.string().optional(),
  /** Distinct approvers needed (N of M), and those who have approved so far. */
  required: z.number().int().optional(),
  approvals: z.array(Approval).optional(),
  /** Whether the submitter may approve their own intent. */
  selfApproval: z.boolean().optional(),
  /** The review bundle (QuantumDrop) for the version under review: GET /intents/:id/drops/:gate serves it. */
  drop: DropRef.optional(),
  /** The gates decided before this one, oldest first: the plan gate, then v1, v2 … of the release gate. */
  history: z.array(PastGate).optional(),
  /** Versions the release gate may still ask for (request_changes), when the policy allows any. */
  maxVersions: z.number().int().optional(),
});
export type GateState = z.infer<typeof GateState>;
