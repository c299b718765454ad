import { z } from 'zod';
import { DropRef } from './drop';
import { line, text } from './text';

/** Who decided: a person's name or address, one line. */
export const Approver = line({ max: 200 });
/** Why: free text, line breaks allowed. */
export const DecisionReason = text({ max: 2000, min: 0 });

const decisionFields = z.strictObject({
  decision: z.enum(['approve', 'reject'], { error: "must be 'approve' or 'reject'" }),
  approver: Approver,
  reason: DecisionReason.optional(),
});

/** An approve/reject decision as a person sends it (API, CLI, Web UI signal, temporal CLI). */
export const DecisionInput = decisionFields.refine(
  (d) => d.decision === 'approve' || (d.reason !== undefined && d.reason.length > 0),
  { path: ['reason'], message: 'is required when rejecting' },
);
export type DecisionInput = z.infer<typeof DecisionInput>;

/** What an approver sends the API: the decision, why, and the review digest they saw (`gate.digest`). */
export const DecisionRequest = z
  .strictObject({
    decision: z.enum(['approve', 'reject'], { error: "must be 'approve' or 'reject'" }),
    reason: DecisionReason.optional(),
    digest: z
      .string({
        error: (issue) =>
          issue.input === undefined ? 'is required (the gate.digest you reviewed)' : 'must be a string',
      })
      .regex(/^[0-9a-f]{64}$/, 'must be the 64-hex-digit review digest shown as gate.digest'),
  })
  .refine((d) => d.decision === 'approve' || (d.reason !== undefined && d.reason.length > 0), {
    path: ['reason'],
    message: 'is required when rejecting',
  });
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
  decision: z.enum(['approve', 'reject']),
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
});
export type IgnoredDecision = z.infer<typeof IgnoredDecision>;

/** The human gate before packaging: open until decided, or timed out (which rejects). */
export const GateState = z.object({
  state: z.enum(['open', 'decided', 'timed_out']),
  /** Which gate: `release` (before packaging). Absent in intents gated before gates had ids. */
  id: z.literal('release').optional(),
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
});
export type GateState = z.infer<typeof GateState>;
