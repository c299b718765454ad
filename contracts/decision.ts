import { z } from 'zod';

const decisionFields = z.strictObject({
  decision: z.enum(['approve', 'reject'], { error: "must be 'approve' or 'reject'" }),
  approver: z.string({ error: 'is required' }).trim().min(1, 'must not be empty').max(200),
  reason: z.string().trim().max(2000, 'must be at most 2000 characters').optional(),
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

export const DecisionRecord = decisionFields.extend({ via: DecisionSource });
export type DecisionRecord = z.infer<typeof DecisionRecord>;

/** The human gate before packaging: open until decided, or timed out (which rejects). */
export const GateState = z.object({
  state: z.enum(['open', 'decided', 'timed_out']),
  decision: DecisionRecord.optional(),
});
export type GateState = z.infer<typeof GateState>;
