import { z } from 'zod';
import { CAPSULE_FORMAT_V1, CAPSULE_FORMAT_V2 } from './capsule';
import { VerdictStatus } from './validation';

// `GET /capsules`: which capsules, a page at a time. Filters combine (all must hold).

export const CAPSULE_PAGE_MAX = 100;

export const FrameworkStatus = z.enum(['pass', 'fail', 'not_assessed'], {
  error: 'must be pass, fail or not_assessed',
});
export type FrameworkStatus = z.infer<typeof FrameworkStatus>;

/** An ISO 8601 date-time with Z or an offset, from year 1 (PostgreSQL has no year 0). */
const instant = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. 2026-12-10T09:00:00Z', abort: true })
  .refine((value) => new Date(value).getUTCFullYear() >= 1, 'must be a real date and time from year 1');

export const ListCapsulesQuery = z
  .strictObject({
    limit: z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(CAPSULE_PAGE_MAX, `must be at most ${CAPSULE_PAGE_MAX}`)
      .default(20),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,400}$/, 'must be a cursor returned by a previous page')
      .optional(),
    intentId: z.uuid('must be an intent id (UUID)').optional(),
    verdict: z.enum(VerdictStatus.options, { error: 'must be passed, failed or not_assessed' }).optional(),
    createdAfter: instant.optional().describe('created strictly after this instant'),
    createdBefore: instant.optional().describe('created strictly before this instant'),
    framework: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be a framework name such as HIPAA')
      .optional()
      .describe(
        'a compliance framework (e.g. HIPAA): without frameworkStatus, capsules that assessed it (pass or fail)',
      ),
    frameworkStatus: FrameworkStatus.optional().describe('with framework: capsules where it has this status'),
    format: z
      .enum([CAPSULE_FORMAT_V1, CAPSULE_FORMAT_V2], { error: `must be ${CAPSULE_FORMAT_V1} or ${CAPSULE_FORMAT_V2}` })
      .optional(),
  })
  .superRefine((query, ctx) => {
    if (query.frameworkStatus && !query.framework) {
      ctx.addIssue({ code: 'custom', path: ['frameworkStatus'], message: 'needs framework (which framework?)' });
    }
  });
export type ListCapsulesQuery = z.infer<typeof ListCapsulesQuery>;
