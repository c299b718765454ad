import { z } from 'zod';

// GET /api/v1/status: what an operator asks first. Is anything polling each queue, how much waits there,
// how many gates wait for people, and are the services up.

const Check = z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() });

export const QueuePoller = z.object({
  identity: z.string(),
  /** When the server last saw it poll (ISO 8601), if it says. */
  lastAccessTime: z.string().nullable(),
});

/** One task queue and kind of task: who polls it, and how many tasks wait (null: the server does not report it). */
export const QueueView = z.object({
  name: z.string(),
  role: z.enum(['orchestration', 'validation']),
  type: z.enum(['workflow', 'activity']),
  pollers: z.array(QueuePoller),
  backlog: z.number().int().nullable(),
  /** Age of the oldest waiting task, in seconds (null: none waits, or not reported). */
  backlogAgeSeconds: z.number().nullable(),
  /** Why the queue could not be described (Temporal unreachable), if so. */
  error: z.string().optional(),
});

export const StatusReport = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  /** When this API process started, and for how long it has run. */
  startedAt: z.string(),
  uptimeSeconds: z.number(),
  components: z.object({ temporal: Check, database: Check, s3: Check }),
  /** Worker identities seen polling any queue (`pid@host`), and whether each role has at least one. */
  workers: z.object({
    seen: z.array(z.string()),
    orchestration: z.boolean(),
    validation: z.boolean(),
  }),
  queues: z.array(QueueView),
  /** Your tenants' intents: running (not final) and waiting at the gate, and the oldest gate's age in seconds. */
  intents: z.object({ running: z.number().int(), awaitingApproval: z.number().int() }),
  gates: z.object({ open: z.number().int(), oldestOpenSeconds: z.number().nullable() }),
});
export type StatusReport = z.infer<typeof StatusReport>;
export type QueueView = z.infer<typeof QueueView>;
