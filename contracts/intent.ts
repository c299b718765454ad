import { z } from 'zod';
import { TenantName } from './identity';
import { line, text } from './text';

export const MAX_INTENT_TEXT = 10_000;

export const intentStatuses = [
  'RECEIVED',
  'PLANNING',
  'EXECUTING',
  'VALIDATING',
  'AWAITING_APPROVAL',
  'PACKAGING',
  'COMPLETED',
  'REJECTED',
  'FAILED',
  'CANCELLED',
] as const;
export const IntentStatus = z.enum(intentStatuses);
export type IntentStatus = z.infer<typeof IntentStatus>;

export const terminalStatuses: readonly IntentStatus[] = ['COMPLETED', 'REJECTED', 'FAILED', 'CANCELLED'];

/** How an intent's task graph reacts to a failed task: stop everything, or run what does not depend on it. */
export const FailurePolicy = z.enum(['fail-fast', 'continue'], { error: "must be 'fail-fast' or 'continue'" });
export type FailurePolicy = z.infer<typeof FailurePolicy>;

/** An intent's text: multi-line, no control characters but tab and line breaks. */
export const IntentText = text({
  max: MAX_INTENT_TEXT,
  typeError: 'is required and must be a string',
});

export const SubmitIntentRequest = z.strictObject({
  text: IntentText,
  /** Optional when the caller belongs to exactly one tenant. */
  tenant: TenantName.optional(),
  failurePolicy: FailurePolicy.optional(),
  /** Labels carried into the capsule's metadata (e.g. `team-payments`, `hipaa`). */
  tags: z
    .array(
      z
        .string({ error: 'must be a string' })
        .regex(
          /^[a-z0-9][a-z0-9._-]{0,39}$/,
          'must be 1–40 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit',
        ),
    )
    .max(20, 'must hold at most 20 tags')
    .refine((tags) => new Set(tags).size === tags.length, 'must not repeat a tag')
    .optional(),
  /** Open the plan gate for this intent: an approver reviews (and may edit) the plan before any agent runs. */
  planReview: z.boolean({ error: 'must be true or false' }).optional(),
  /** Start from the capsule files of a near-identical completed intent of the tenant, if there is one. */
  reuse: z.boolean({ error: 'must be true or false' }).optional(),
});
export type SubmitIntentRequest = z.infer<typeof SubmitIntentRequest>;

export const IdempotencyKey = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export const ListIntentsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a cursor returned by a previous page')
    .optional(),
  status: IntentStatus.optional(),
});
export type ListIntentsQuery = z.infer<typeof ListIntentsQuery>;

export const IntentId = z.uuid('must be an intent id (UUID)');

export const CancelIntentRequest = z.strictObject({
  requestedBy: line({ max: 200 }).default('api'),
  reason: text({ max: 2000, min: 0 }).optional(),
});
/** Who asked to cancel and why: the `cancelIntent` update's argument. */
export type CancelRequest = z.infer<typeof CancelIntentRequest>;

/** What a caller sends the API to cancel: why. Who is the authenticated caller, never a body field. */
export const CancelIntentBody = CancelIntentRequest.omit({ requestedBy: true });

/** The Temporal workflow id of an intent; derived, so API, CLI and Web UI agree without a lookup. */
export function intentWorkflowId(intentId: string): string {
  return `intent-${intentId}`;
}
