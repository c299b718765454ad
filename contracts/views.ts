import { z } from 'zod';
import { IntentStatus } from './intent';
import { LlmUsageView } from './usage';
import { DecisionRecord, GateState } from './decision';
import { AuthMethod, Role } from './identity';
import { TaskState } from './state';
import { ValidationReport, ValidationSummary } from './validation';

// What the API returns. One schema per response feeds the API's types, the CLI's and the OpenAPI document.

const timestamp = z.iso.datetime();

export const TaskView = z.object({
  id: z.string(),
  type: z.string(),
  description: z.string(),
  dependencies: z.array(z.string()),
  status: TaskState,
  fileCount: z.number().int().nullable(),
  /** Attempts the task's agent took (0 until it finishes). */
  attempts: z.number().int(),
  error: z.string().nullable(),
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
});
export type TaskView = z.infer<typeof TaskView>;

export const CapsuleView = z.object({
  id: z.uuid(),
  version: z.number().int(),
  sha256: z.string(),
  sizeBytes: z.number().int(),
  fileCount: z.number().int(),
  location: z.string().describe('s3://bucket/key'),
  download: z.string().describe('API path that streams the archive'),
});
export type CapsuleView = z.infer<typeof CapsuleView>;

export const IntentView = z.object({
  id: z.uuid(),
  tenant: z.string(),
  text: z.string(),
  /** The subject of whoever submitted it (null for intents from before identities). */
  submittedBy: z.string().nullable(),
  status: IntentStatus,
  statusReason: z.string().nullable(),
  workflowId: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
  completedAt: timestamp.nullable(),
  tasks: z.array(TaskView).optional().describe('present on single-intent reads'),
  validation: ValidationSummary.nullable(),
  gate: GateState.nullable(),
  capsule: CapsuleView.nullable(),
  usage: LlmUsageView.optional().describe('LLM calls, tokens and cost; present on single-intent reads'),
  links: z.object({ self: z.string(), decision: z.string(), temporalUi: z.url() }),
});
export type IntentView = z.infer<typeof IntentView>;

export const IntentPage = z.object({ items: z.array(IntentView), nextCursor: z.string().nullable() });
export type IntentPage = z.infer<typeof IntentPage>;

export const DecisionResponse = z.object({
  intentId: z.uuid(),
  accepted: z.literal(true),
  decision: DecisionRecord,
  /** The gate after this decision: decided, or still open for more approvers. */
  gate: GateState.optional(),
  links: z.object({ self: z.string() }),
});

/** `POST /intents/:id/decision-token`: a signed decision for ops to send as a `decision` signal. */
export const DecisionTokenView = z.object({
  intentId: z.uuid(),
  workflowId: z.string(),
  token: z.string(),
  expiresAt: z.iso.datetime(),
  /** The temporal CLI command that sends it. */
  command: z.string(),
});
export type DecisionTokenView = z.infer<typeof DecisionTokenView>;

/** `GET /whoami`: the authenticated caller. */
export const PrincipalView = z.object({
  subject: z.string(),
  name: z.string(),
  tenants: z.array(z.string()),
  roles: z.array(Role),
  method: AuthMethod,
});
export type PrincipalView = z.infer<typeof PrincipalView>;

export const ApiKeyView = z.object({
  id: z.uuid(),
  prefix: z.string(),
  name: z.string(),
  tenant: z.string(),
  roles: z.array(z.string()),
  createdBy: z.string(),
  createdAt: timestamp,
  expiresAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
  lastUsedAt: timestamp.nullable(),
});
export type ApiKeyView = z.infer<typeof ApiKeyView>;

/** A new key: the secret is in `key`, shown this once. */
export const CreatedApiKeyView = ApiKeyView.extend({ key: z.string().describe('the whole key, shown only once') });
export type CreatedApiKeyView = z.infer<typeof CreatedApiKeyView>;

export const ApiKeyList = z.object({ items: z.array(ApiKeyView) });
export type ApiKeyList = z.infer<typeof ApiKeyList>;
export type DecisionResponse = z.infer<typeof DecisionResponse>;

/** `GET /intents/:id/validation`: the stored report, with where to get its SARIF. */
export const ValidationReportView = ValidationReport.extend({
  links: z.object({ sarif: z.string().describe('API path of the SARIF 2.1.0 report') }),
});
export type ValidationReportView = z.infer<typeof ValidationReportView>;

const HealthCheck = z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() });
export type HealthCheck = z.infer<typeof HealthCheck>;

export const HealthReport = z.object({
  status: z.enum(['ok', 'degraded']),
  checks: z.object({ temporal: HealthCheck, database: HealthCheck, s3: HealthCheck }),
});
export type HealthReport = z.infer<typeof HealthReport>;

export const LlmStatsView = z.object({
  calls: z.number().int(),
  hits: z.number().int(),
  hitRate: z.number().nullable().describe('cache hits / calls; null before any call'),
  entries: z.number().int(),
});
export type LlmStatsView = z.infer<typeof LlmStatsView>;

export const ProblemView = z.object({
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  errors: z.array(z.object({ field: z.string(), reason: z.string() })).optional(),
  /** On a 429: the quota refused, its limit, what is used, and when it resets (null: when a running intent ends). */
  quota: z.object({ name: z.string(), limit: z.number(), used: z.number(), resetsAt: timestamp.nullable() }).optional(),
});
