import { z } from 'zod';

export const DecisionInput = z
  .strictObject({
    decision: z.enum(['approve', 'reject'], { error: "must be 'approve' or 'reject'" }),
    approver: z.string({ error: 'is required' }).trim().min(1, 'must not be empty').max(200),
    reason: z.string().trim().max(2000, 'must be at most 2000 characters').optional(),
  })
  .refine((d) => d.decision === 'approve' || (d.reason !== undefined && d.reason.length > 0), {
    path: ['reason'],
    message: 'is required when rejecting',
  });
export type DecisionInput = z.infer<typeof DecisionInput>;

export interface DecisionRecord extends DecisionInput {
  /** Where the decision came from: the `submitDecision` update (API/CLI) or the `decision` signal (Web UI, temporal CLI). */
  via: 'update' | 'signal' | 'policy' | 'timeout';
}
