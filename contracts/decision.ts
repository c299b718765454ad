import { z } from 'zod';
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

/** Where a decision came from: the `submitDecision` update (API/CLI), the `decision` signal (Web UI, temporal CLI), the auto-approve policy or the gate's timeout. */
export const DecisionSource = z.enum(['update', 'signal', 'policy', 'timeout']);
export type DecisionSource = z.infer<typeof DecisionSource>;

export const DecisionRecord = decisionFields.extend({
  via: DecisionSource,
  /** When the workflow took the decision (workflow time); absent in intents decided before it was recorded. */
  decidedAt: z.iso.datetime().optional(),
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
  decision: DecisionRecord.optional(),
});
export type GateState = z.infer<typeof GateState>;
