import { z } from 'zod';
import type { Budget } from '../../contracts/budget';

/**
 * LLM provider settings from the environment. config/index.ts spreads `llmEnvShape` into its schema
 * and calls `toLlmConfig`; every variable is documented in .env.example and docs/llm.md.
 */

export const providerKinds = ['openai', 'azure', 'compatible'] as const;
export type ProviderKind = (typeof providerKinds)[number];

/** How a provider is asked for JSON: a JSON schema (structured outputs), JSON mode, or by prompt only. */
export const responseFormats = ['json_schema', 'json_object', 'none'] as const;
export type ResponseFormatMode = (typeof responseFormats)[number];

export interface ProviderConfig {
  /** The name used in config, logs, the ledger and failure messages. */
  name: ProviderKind;
  model: string;
  /** For Azure, the deployment name; `model` then names the model behind it (for pricing). */
  deployment?: string;
  baseUrl?: string;
  apiVersion?: string;
  /** Never logged, never put into an error or a result. */
  apiKey?: string;
  responseFormat: ResponseFormatMode;
  maxConcurrency: number;
  /** 0 = no limit. */
  requestsPerMinute: number;
  /** The variable holding the key, named in authentication failures so people know what to fix. */
  keyVariable: string;
}

export interface LlmConfig {
  /** In failover order; empty = the offline catalogue. */
  providers: ProviderConfig[];
  timeoutMs: number;
  maxOutputTokens: number;
  temperature: number;
  cache: boolean;
  pricesFile?: string;
  /** The default per-intent budget, when a workflow does not pass one. */
  budget: Budget;
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const durationMs = z
  .string()
  .regex(/^\d+(ms|s|m)$/, 'must be a duration such as 500ms, 30s or 5m')
  .transform((value) => {
    const [, amount, unit] = /^(\d+)(ms|s|m)$/.exec(value)!;
    return Number(amount) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000);
  });
const httpUrl = z.url({ protocol: /^https?$/ });
const providerList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim().toLowerCase())
      .filter(Boolean),
  )
  .pipe(
    z.array(
      z.enum([...providerKinds, 'offline'], {
        error: `each entry must be one of ${providerKinds.join(', ')} or offline`,
      }),
    ),
  );

/** The LLM variables, merged into config/index.ts's environment schema. */
export const llmEnvShape = {
  LLM_PROVIDERS: providerList.default([]),
  LLM_TIMEOUT: durationMs.default(120_000),
  LLM_MAX_OUTPUT_TOKENS: int(16, 200_000).default(4096),
  LLM_TEMPERATURE: z.coerce.number().min(0).max(2).default(0),
  LLM_CACHE: z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .transform((value) => ['true', '1', 'yes'].includes(value))
    .default(true),
  LLM_PRICES_FILE: z.string().min(1).optional(),
  INTENT_BUDGET_TOKENS: int(0, 1_000_000_000).default(400_000),
  INTENT_BUDGET_USD: z.coerce.number().min(0).optional(),

  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  OPENAI_BASE_URL: httpUrl.optional(),
  OPENAI_MAX_CONCURRENCY: int(1, 100).default(4),
  OPENAI_REQUESTS_PER_MINUTE: int(0, 100_000).default(60),

  AZURE_OPENAI_ENDPOINT: httpUrl.optional(),
  AZURE_OPENAI_API_KEY: z.string().min(1).optional(),
  AZURE_OPENAI_DEPLOYMENT: z.string().min(1).optional(),
  AZURE_OPENAI_API_VERSION: z.string().min(1).default('2024-10-21'),
  AZURE_OPENAI_MODEL: z.string().min(1).optional(),
  AZURE_OPENAI_MAX_CONCURRENCY: int(1, 100).default(4),
  AZURE_OPENAI_REQUESTS_PER_MINUTE: int(0, 100_000).default(60),

  LLM_COMPATIBLE_BASE_URL: httpUrl.optional(),
  LLM_COMPATIBLE_API_KEY: z.string().min(1).optional(),
  LLM_COMPATIBLE_MODEL: z.string().min(1).optional(),
  LLM_COMPATIBLE_RESPONSE_FORMAT: z.enum(responseFormats).default('json_schema'),
  LLM_COMPATIBLE_MAX_CONCURRENCY: int(1, 100).default(1),
  LLM_COMPATIBLE_REQUESTS_PER_MINUTE: int(0, 100_000).default(0),
};

const llmEnvSchema = z.object(llmEnvShape);
export type LlmEnv = z.infer<typeof llmEnvSchema>;

export type LlmConfigResult = { config: LlmConfig } | { issues: { variable: string; reason: string }[] };

/** Builds the provider list; a listed provider missing what it needs is an issue naming the variable. */
export function toLlmConfig(env: LlmEnv): LlmConfigResult {
  const issues: { variable: string; reason: string }[] = [];
  const need = <T>(value: T | undefined, variable: string, provider: string): T | undefined => {
    if (value === undefined) issues.push({ variable, reason: `is required when LLM_PROVIDERS includes ${provider}` });
    return value;
  };
  const names = [...new Set(env.LLM_PROVIDERS.filter((name): name is ProviderKind => name !== 'offline'))];
  if (names.length && env.LLM_PROVIDERS.includes('offline')) {
    issues.push({ variable: 'LLM_PROVIDERS', reason: 'offline cannot be combined with LLM providers' });
  }
  const providers: ProviderConfig[] = [];
  for (const name of names) {
    if (name === 'openai') {
      providers.push({
        name,
        model: env.OPENAI_MODEL,
        baseUrl: env.OPENAI_BASE_URL,
        apiKey: need(env.OPENAI_API_KEY, 'OPENAI_API_KEY', name),
        responseFormat: 'json_schema',
        maxConcurrency: env.OPENAI_MAX_CONCURRENCY,
        requestsPerMinute: env.OPENAI_REQUESTS_PER_MINUTE,
        keyVariable: 'OPENAI_API_KEY',
      });
    } else if (name === 'azure') {
      const deployment = need(env.AZURE_OPENAI_DEPLOYMENT, 'AZURE_OPENAI_DEPLOYMENT', name);
      providers.push({
        name,
        model: env.AZURE_OPENAI_MODEL ?? deployment ?? '',
        deployment,
        baseUrl: need(env.AZURE_OPENAI_ENDPOINT, 'AZURE_OPENAI_ENDPOINT', name),
        apiVersion: env.AZURE_OPENAI_API_VERSION,
        apiKey: need(env.AZURE_OPENAI_API_KEY, 'AZURE_OPENAI_API_KEY', name),
        responseFormat: 'json_schema',
        maxConcurrency: env.AZURE_OPENAI_MAX_CONCURRENCY,
        requestsPerMinute: env.AZURE_OPENAI_REQUESTS_PER_MINUTE,
        keyVariable: 'AZURE_OPENAI_API_KEY',
      });
    } else {
      providers.push({
        name,
        model: need(env.LLM_COMPATIBLE_MODEL, 'LLM_COMPATIBLE_MODEL', name) ?? '',
        baseUrl: need(env.LLM_COMPATIBLE_BASE_URL, 'LLM_COMPATIBLE_BASE_URL', name),
        apiKey: env.LLM_COMPATIBLE_API_KEY,
        responseFormat: env.LLM_COMPATIBLE_RESPONSE_FORMAT,
        maxConcurrency: env.LLM_COMPATIBLE_MAX_CONCURRENCY,
        requestsPerMinute: env.LLM_COMPATIBLE_REQUESTS_PER_MINUTE,
        keyVariable: 'LLM_COMPATIBLE_API_KEY',
      });
    }
  }
  if (issues.length) return { issues };
  return {
    config: {
      providers,
      timeoutMs: env.LLM_TIMEOUT,
      maxOutputTokens: env.LLM_MAX_OUTPUT_TOKENS,
      temperature: env.LLM_TEMPERATURE,
      cache: env.LLM_CACHE,
      pricesFile: env.LLM_PRICES_FILE,
      budget: {
        maxTokens: env.INTENT_BUDGET_TOKENS === 0 ? null : env.INTENT_BUDGET_TOKENS,
        maxCostUsd: env.INTENT_BUDGET_USD ?? null,
      },
    },
  };
}

/** The parsed config with no provider: what tests and tools use when they need the offline catalogue. */
export function offlineLlmConfig(): LlmConfig {
  const result = toLlmConfig(llmEnvSchema.parse({}));
  if ('issues' in result) throw new Error('the default LLM config is invalid');
  return result.config;
}
