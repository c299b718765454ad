import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { llmEnvShape, toLlmConfig, type LlmConfig } from '../adapters/llm/config';
import { sandboxEnvShape, toSandboxConfig, type SandboxConfig } from '../adapters/sandbox/config';
import { toValidationConfig, validationEnvShape, type ValidationConfig } from '../validation/config';

/**
 * The one place where the environment becomes typed configuration.
 * Every variable is documented in `.env.example`; an invalid value stops start-up
 * with a message naming the variable, never a stack trace from deep inside a driver.
 */

const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration such as 500ms, 30s, 10m, 2h or 7d');

const port = z.coerce.number().int().min(1).max(65535);
const url = z.url({ protocol: /^https?$/ });
const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((value) => ['true', '1', 'yes'].includes(value));

export const envSchema = z.object({
  QLP_DATA_DIR: z.string().min(1).default('.data'),
  QLP_TOOLS_DIR: z.string().min(1).default('.tools'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),

  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^:\s]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:7233')
    .default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('quantumlayer'),
  TEMPORAL_UI_URL: url.default('http://127.0.0.1:8233'),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),

  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// connection URL')
    .default('postgresql://postgres@127.0.0.1:5432/quantumlayer'),

  S3_ENDPOINT: url.default('http://127.0.0.1:8333'),
  WEED_PATH: z.string().min(1).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY: z.string().min(3).default('qlp-dev-access-key'),
  S3_SECRET_KEY: z.string().min(8).default('qlp-dev-secret-key-change-me'),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
    .default('quantumlayer'),

  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(8080),
  API_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/, 'must be a size such as 64kb')
    .default('64kb'),
  QLP_API_URL: url.default('http://127.0.0.1:8080'),

  GATE_TIMEOUT: duration.default('7d'),
  MAX_TASK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(10),
  MAX_PLAN_TASKS: z.coerce.number().int().min(1).max(1000).default(200),
  FAILURE_POLICY: z
    .enum(['fail-fast', 'continue'], { error: "must be 'fail-fast' or 'continue'" })
    .default('fail-fast'),
  AUTO_APPROVE: boolean.default(false),

  // LLM providers, cache and budgets (adapters/llm/config.ts, docs/llm.md).
  ...llmEnvShape,

  // Validation thresholds, frameworks and semgrep (validation/config.ts, docs/validation.md).
  ...validationEnvShape,

  // Sandbox for layer 2 (adapters/sandbox/config.ts, docs/sandbox.md).
  ...sandboxEnvShape,
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
  gate: { timeout: string; autoApprove: boolean };
  /** LLM providers in failover order (empty: the offline catalogue), limits, cache and the default budget. */
  llm: LlmConfig;
  /** Score thresholds, compliance frameworks that apply, and where semgrep is. */
  validation: ValidationConfig;
  /** Which isolation runs generated code (layer 2), and its limits. */
  sandbox: SandboxConfig;
  /** How an intent's task graph runs; fixed per intent when it is submitted. */
  dag: { maxConcurrency: number; maxPlanTasks: number; failurePolicy: 'fail-fast' | 'continue' };
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
    gate: { timeout: e.GATE_TIMEOUT, autoApprove: e.AUTO_APPROVE },
    llm: llm.config,
    validation: toValidationConfig(e),
    sandbox: toSandboxConfig(e),
    dag: { maxConcurrency: e.MAX_TASK_CONCURRENCY, maxPlanTasks: e.MAX_PLAN_TASKS, failurePolicy: e.FAILURE_POLICY },
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
