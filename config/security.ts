import type { Duration } from '@temporalio/common';
import { z } from 'zod';
import { Role, TenantName } from '../contracts/identity';
import type { Section } from './setting';

// Authentication, approvals and quotas: who may do what, how many must approve, and how much a tenant
// may use. Tenants share the defaults below; TENANT_POLICIES overrides them per tenant. docs/security.md.

const security: Section = { title: 'Security: deployment mode, approvals and quotas' };

const count = (max: number) => z.coerce.number().int().min(0).max(max);

/** What a tenant's policy may set; every field falls back to the deployment's default. */
const gateDuration = z.string().regex(/^[1-9]\d*(s|m|h|d)$/, 'must be a duration such as 30m, 4h or 2d');
const gateOnTimeout = z.enum(['reject', 'cancel'], { error: "must be 'reject' or 'cancel'" });

export const TenantPolicyOverride = z.strictObject({
  approvalsRequired: z.number().int().min(1).max(10).optional(),
  gateRemindAfter: gateDuration.optional(),
  gateEscalateAfter: gateDuration.optional(),
  gateEscalateTo: z.string().min(1).max(200).optional(),
  gateEscalateRole: Role.optional(),
  gateOnTimeout: gateOnTimeout.optional(),
  planGate: z.enum(['off', 'always', 'auto'], { error: "must be 'off', 'always' or 'auto'" }).optional(),
  planGateMinTasks: z.number().int().min(1).max(1000).optional(),
  maxVersions: z.number().int().min(1).max(10).optional(),
  allowSelfApproval: z.boolean().optional(),
  concurrentIntents: z.number().int().min(0).optional(),
  intentsPerDay: z.number().int().min(0).optional(),
  llmTokensPerDay: z.number().int().min(0).optional(),
});

export const securityEnvShape = {
  QLP_ENV: z
    .enum(['development', 'production'])
    .prefault('development')
    .meta({
      section: security,
      doc: [
        'production: an approval signing key must be configured (never generated), and unsigned `decision`',
        'signals are refused unless GATE_UNSIGNED_SIGNALS=accept. development: both are lenient for local use.',
      ],
    }),
  APPROVAL_SIGNING_KEY: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be 64 hex digits (an ed25519 private key seed)')
    .optional()
    .meta({
      section: security,
      doc: [
        'The ed25519 key (hex seed) the API signs decisions with; workflows verify them with its public key.',
        'Unset: read from APPROVAL_SIGNING_KEY_FILE (in development, created there on first start).',
      ],
    }),
  APPROVAL_SIGNING_KEY_FILE: z.string().min(1).optional().meta({
    section: security,
    doc: 'File holding the signing key (hex). Default: <QLP_DATA_DIR>/approval-signing.key.',
  }),
  CAPSULE_SIGNING_KEY_DIR: z
    .string()
    .min(1)
    .optional()
    .meta({
      section: security,
      doc: [
        'Directory of the ed25519 keys the worker signs capsules with (one PEM per key, `active` names the current one).',
        'Default: <QLP_DATA_DIR>/capsule-keys (in development, created on first start). Rotate: `npm run capsule-key -- rotate`.',
      ],
    }),
  APPROVAL_TOKEN_TTL: z
    .string()
    .regex(/^\d+(s|m|h)$/, 'must be a duration such as 90s, 15m or 2h')
    .prefault('15m')
    .meta({
      section: security,
      doc: 'How long a signed decision (from the API or `qlp approve --token`) stays valid.',
    }),
  GATE_UNSIGNED_SIGNALS: z
    .enum(['accept', 'refuse'])
    .optional()
    .meta({
      section: security,
      doc: [
        'A `decision` signal without a signed token (Web UI, temporal CLI): accept it and record it as',
        '`via: temporal-ui, unauthenticated`, or refuse it (and record the refusal). Default: accept in',
        'development, refuse in production.',
      ],
    }),
  APPROVALS_REQUIRED: count(10).min(1).prefault('1').meta({
    section: security,
    doc: 'Distinct approvers (with the approver role) an intent needs; any rejection ends the gate.',
  }),
  GATE_REMIND_AFTER: gateDuration.optional().meta({
    section: security,
    doc: 'Escalation ladder, T1: remind (audit event gate_reminder, webhook gate.reminder) when a gate is still undecided after this long.',
  }),
  GATE_ESCALATE_AFTER: gateDuration.optional().meta({
    section: security,
    doc: 'Escalation ladder, T2: escalate (audit event gate_escalated, webhook gate.escalated) to GATE_ESCALATE_TO.',
  }),
  GATE_ESCALATE_TO: z.string().min(1).max(200).optional().meta({
    section: security,
    doc: 'Who an escalation goes to (a group or address, named in the event). Default: admins.',
  }),
  PLAN_GATE: z
    .enum(['off', 'always', 'auto'], { error: "must be 'off', 'always' or 'auto'" })
    .prefault('off')
    .meta({
      section: security,
      doc: [
        'The plan gate, before any agent runs: off, always, or auto (when the plan has PLAN_GATE_MIN_TASKS',
        'tasks or more, or an infra task). A submission can ask for it with `planReview: true`.',
      ],
    }),
  PLAN_GATE_MIN_TASKS: count(1000).min(1).prefault('8').meta({
    section: security,
    doc: 'PLAN_GATE=auto: the plan size from which the plan gate opens.',
  }),
  GATE_MAX_VERSIONS: count(10).min(1).prefault('3').meta({
    section: security,
    doc: 'Versions an intent may reach at the release gate through request_changes (v1 included; 1 = no changes).',
  }),
  GATE_ESCALATE_ROLE: Role.optional().meta({
    section: security,
    doc: 'A role that may also decide once a gate is escalated (e.g. admin), beside the approvers. Default: none.',
  }),
  GATE_ON_TIMEOUT: gateOnTimeout.prefault('reject').meta({
    section: security,
    doc: 'What GATE_TIMEOUT does to an undecided gate: reject the intent, or cancel it.',
  }),
  ALLOW_SELF_APPROVAL: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .transform((v) => v === 'true')
    .prefault('false')
    .meta({ section: security, doc: 'May the submitter of an intent approve it? Off: separation of duties.' }),
  QUOTA_CONCURRENT_INTENTS: count(1_000_000).prefault('200').meta({
    section: security,
    doc: 'Intents a tenant may have running at once (0 = no limit); more get 429.',
  }),
  QUOTA_INTENTS_PER_DAY: count(100_000_000).prefault('5000').meta({
    section: security,
    doc: 'Intents a tenant may submit per UTC day (0 = no limit).',
  }),
  QUOTA_LLM_TOKENS_PER_DAY: count(1_000_000_000_000).prefault('0').meta({
    section: security,
    doc: "LLM tokens a tenant's intents may use per UTC day (0 = no limit); checked at submission and by the ledger before each LLM call.",
  }),
  TENANT_POLICIES: z
    .string()
    .transform((value, ctx) => {
      try {
        return JSON.parse(value) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(z.record(TenantName, TenantPolicyOverride))
    .prefault('{}')
    .meta({
      section: security,
      doc: [
        'Per-tenant overrides, JSON: {"acme": {"approvalsRequired": 2, "allowSelfApproval": false,',
        '"concurrentIntents": 10, "intentsPerDay": 500, "llmTokensPerDay": 2000000, "gateRemindAfter": "1d",',
        '"gateEscalateAfter": "3d", "gateEscalateTo": "ops-leads@acme.example", "gateOnTimeout": "cancel",',
        '"planGate": "auto", "planGateMinTasks": 5, "maxVersions": 2}}.',
      ],
    }),
};

type SecurityEnv = z.output<z.ZodObject<typeof securityEnvShape>>;

export interface TenantPolicy {
  approvalsRequired: number;
  gateRemindAfter?: string;
  gateEscalateAfter?: string;
  gateEscalateTo?: string;
  gateEscalateRole?: string;
  gateOnTimeout: 'reject' | 'cancel';
  planGate: 'off' | 'always' | 'auto';
  planGateMinTasks: number;
  maxVersions: number;
  allowSelfApproval: boolean;
  /** 0 = no limit. */
  concurrentIntents: number;
  intentsPerDay: number;
  llmTokensPerDay: number;
}

export interface SecurityConfig {
  mode: 'development' | 'production';
  signingKey: { hex?: string; file: string };
  /** Where the worker's capsule signing keys live (adapters/signing/local-key.ts). */
  capsuleKeys: { dir: string };
  tokenTtl: Duration;
  unsignedSignals: 'accept' | 'refuse';
  defaults: TenantPolicy;
  tenants: Record<string, Partial<TenantPolicy>>;
}

export function toSecurityConfig(e: SecurityEnv, dataDir: string): SecurityConfig {
  const production = e.QLP_ENV === 'production';
  return {
    mode: e.QLP_ENV,
    signingKey: { hex: e.APPROVAL_SIGNING_KEY, file: e.APPROVAL_SIGNING_KEY_FILE ?? `${dataDir}/approval-signing.key` },
    capsuleKeys: { dir: e.CAPSULE_SIGNING_KEY_DIR ?? `${dataDir}/capsule-keys` },
    tokenTtl: e.APPROVAL_TOKEN_TTL as Duration,
    unsignedSignals: e.GATE_UNSIGNED_SIGNALS ?? (production ? 'refuse' : 'accept'),
    defaults: {
      approvalsRequired: e.APPROVALS_REQUIRED,
      gateRemindAfter: e.GATE_REMIND_AFTER,
      gateEscalateAfter: e.GATE_ESCALATE_AFTER,
      gateEscalateTo: e.GATE_ESCALATE_TO,
      gateEscalateRole: e.GATE_ESCALATE_ROLE,
      gateOnTimeout: e.GATE_ON_TIMEOUT,
      planGate: e.PLAN_GATE,
      planGateMinTasks: e.PLAN_GATE_MIN_TASKS,
      maxVersions: e.GATE_MAX_VERSIONS,
      allowSelfApproval: e.ALLOW_SELF_APPROVAL,
      concurrentIntents: e.QUOTA_CONCURRENT_INTENTS,
      intentsPerDay: e.QUOTA_INTENTS_PER_DAY,
      llmTokensPerDay: e.QUOTA_LLM_TOKENS_PER_DAY,
    },
    tenants: e.TENANT_POLICIES,
  };
}

/** A tenant's effective policy: its overrides over the deployment's defaults. */
export function tenantPolicy(config: SecurityConfig, tenant: string): TenantPolicy {
  return { ...config.defaults, ...config.tenants[tenant] };
}
