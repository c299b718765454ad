import { z } from 'zod';
import { CapsuleMetadata, KeyId, VerificationResult } from './capsule';
import { FrameworkStatus } from './capsule-query';
import { IntentStatus } from './intent';
import { LlmUsageView } from './usage';
import { DecisionRecord, GateState } from './decision';
import { AuthMethod, Role } from './identity';
import { TaskState } from './state';
import { ValidationReport, ValidationSummary, VerdictStatus } from './validation';

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
  links: z.object({
    self: z.string(),
    decision: z.string(),
    temporalUi: z.url(),
    drop: z.string().describe("the gate's QuantumDrop (404 until the gate opens)").optional(),
  }),
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

/** `GET /capsules`: one capsule, with what the list filters on and the metadata worth seeing at a glance. */
export const CapsuleSummaryView = z.object({
  id: z.uuid(),
  intentId: z.uuid(),
  version: z.number().int(),
  format: z.string().describe('quantumcapsule/v1 or quantumcapsule/v2'),
  createdAt: timestamp,
  sha256: z.string(),
  sizeBytes: z.number().int(),
  fileCount: z.number().int(),
  /** The validation verdict (null for capsules packaged before it was recorded). */
  verdict: VerdictStatus.nullable(),
  /** Each assessed framework's status, e.g. {"HIPAA": "pass"}. */
  frameworks: z.record(z.string(), FrameworkStatus),
  /** The key that signed it (null for an unsigned v1 capsule). */
  keyId: KeyId.nullable(),
  metadata: CapsuleMetadata.pick({ name: true, version: true, securityRisk: true, qualityScore: true, tags: true })
    .nullable()
    .describe('null for a v1 capsule, which carries none'),
  links: z.object({ self: z.string(), download: z.string(), intent: z.string() }),
});
export type CapsuleSummaryView = z.infer<typeof CapsuleSummaryView>;

export const CapsulePage = z.object({ items: z.array(CapsuleSummaryView), nextCursor: z.string().nullable() });
export type CapsulePage = z.infer<typeof CapsulePage>;

/** Verification was not attempted on read: the archive is above the size the API verifies in a request. */
export const VerificationSkipped = z.object({
  status: z.literal('skipped'),
  reason: z.string(),
  sizeBytes: z.number().int(),
  limitBytes: z.number().int(),
});
export type VerificationSkipped = z.infer<typeof VerificationSkipped>;

/** `GET /capsules/:id`: the summary plus full metadata, the intent's other versions, signers and a fresh verification. */
export const CapsuleDetailView = CapsuleSummaryView.extend({
  metadata: CapsuleMetadata.nullable().describe('null for a v1 capsule, which carries none'),
  /** Every capsule of the same intent, oldest version first (this one included). */
  versions: z.array(z.object({ id: z.uuid(), version: z.number().int(), createdAt: timestamp, sha256: z.string() })),
  /** The keys named as signers: the packaging key and any whose signature verified just now. */
  signatures: z.array(
    z.object({
      keyId: KeyId,
      /** Listed in GET /signing-keys (a capsule signed by an unknown key does not verify). */
      known: z.boolean(),
      retired: z.boolean(),
      retiredAt: timestamp.nullable(),
    }),
  ),
  verification: z
    .union([VerificationResult, VerificationSkipped])
    .describe(
      'the stored archive verified now, as qlp verify would; above 256 MiB {status: "skipped", reason, sizeBytes, limitBytes}',
    ),
});
export type CapsuleDetailView = z.infer<typeof CapsuleDetailView>;
