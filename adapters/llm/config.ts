import { z } from 'zod';
import type { Budget } from '../../contracts/budget';
import { isLoopbackUrl } from '../../contracts/loopback';
import type { Section, Subsection } from '../../config/setting';

/**
 * LLM provider settings from the environment. config/index.ts spreads `llmEnvShape` into its schema
 * and calls `toLlmConfig`; each variable's documentation is declared here (config/setting.ts), rendered
 * into .env.example, and explained further in docs/llm.md.
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

const llm: Section = { title: 'LLM providers, cache and budgets (docs/llm.md)' };
const openai: Subsection = {
  parent: llm,
  note: ['OpenAI (LLM_PROVIDERS includes openai). OPENAI_BASE_URL only for a proxy in front of api.openai.com.'],
};
const azure: Subsection = {
  parent: llm,
  note: ['Azure OpenAI (LLM_PROVIDERS includes azure): the resource endpoint, its key and the deployment to call.'],
};
const compatible: Subsection = {
  parent: llm,
  note: [
    'Any OpenAI-compatible server (LLM_PROVIDERS includes compatible): Ollama http://127.0.0.1:11434/v1,',
    'vLLM http://127.0.0.1:8000/v1, llama.cpp http://127.0.0.1:8080/v1. The key is optional.',
  ],
};

/** The LLM variables, merged into config/index.ts's environment schema. */
export const llmEnvShape = {
  LLM_PROVIDERS: providerList.prefault('').meta({
    section: llm,
    doc: [
      'Providers in failover order, comma-separated: openai, azure, compatible. Empty (or "offline"):',
      'no LLM; the deterministic offline catalogue handles the intents it knows and refuses the rest.',
    ],
  }),
  LLM_TIMEOUT: durationMs.prefault('120s').meta({
    section: llm,
    doc: 'One HTTP request to a provider may take this long before it counts as a (retryable) timeout.',
  }),
  LLM_MAX_OUTPUT_TOKENS: int(16, 200_000).prefault('4096').meta({
    section: llm,
    doc: 'Output-token ceiling of every call; also the worst case a budget reserves before each call.',
  }),
  LLM_TEMPERATURE: z.coerce.number().min(0).max(2).prefault('0').meta({ section: llm }),
  LLM_CACHE: z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .transform((value) => ['true', '1', 'yes'].includes(value))
    .prefault('true')
    .meta({
      section: llm,
      doc: 'Reuse validated responses for identical (model, prompt, parameters), stored in PostgreSQL.',
    }),
  LLM_ALLOW_INSECURE_HTTP: z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .transform((value) => ['true', '1', 'yes'].includes(value))
    .prefault('false')
    .meta({
      section: llm,
      doc: [
        'Provider URLs carry the API key: they must be https:// unless the host is loopback (127.0.0.1, ::1,',
        'localhost). true also allows plain http:// to a remote host (a trusted private network only).',
      ],
    }),
  LLM_PRICES_FILE: z.string().min(1).optional().meta({
    section: llm,
    doc: 'JSON file adding to or overriding the built-in price table: {"models": {"name": {"input": 0.15, "output": 0.6}}} (USD per 1M tokens).',
  }),
  INTENT_BUDGET_TOKENS: int(0, 1_000_000_000).prefault('400000').meta({
    section: llm,
    doc: 'Default per-intent budget: tokens (0 = no token cap) and US dollars (unset = no money cap; needs priced models).',
  }),
  INTENT_BUDGET_USD: z.coerce.number().min(0).optional().meta({ section: llm }),

  OPENAI_API_KEY: z.string().min(1).optional().meta({ section: openai }),
  OPENAI_MODEL: z.string().min(1).prefault('gpt-4o-mini').meta({ section: openai }),
  OPENAI_BASE_URL: httpUrl.optional().meta({ section: openai }),
  OPENAI_MAX_CONCURRENCY: int(1, 100).prefault('4').meta({
    section: openai,
    doc: 'Per worker process: requests in flight at once, and started per minute (0 = no limit).',
  }),
  OPENAI_REQUESTS_PER_MINUTE: int(0, 100_000).prefault('60').meta({ section: openai }),

  AZURE_OPENAI_ENDPOINT: httpUrl.optional().meta({ section: azure }),
  AZURE_OPENAI_API_KEY: z.string().min(1).optional().meta({ section: azure }),
  AZURE_OPENAI_DEPLOYMENT: z.string().min(1).optional().meta({ section: azure }),
  AZURE_OPENAI_API_VERSION: z.string().min(1).prefault('2024-10-21').meta({ section: azure }),
  AZURE_OPENAI_MODEL: z.string().min(1).optional().meta({
    section: azure,
    doc: "The model behind the deployment (e.g. gpt-4o-mini), for pricing; Azure's reported model is used when known.",
  }),
  AZURE_OPENAI_MAX_CONCURRENCY: int(1, 100).prefault('4').meta({ section: azure }),
  AZURE_OPENAI_REQUESTS_PER_MINUTE: int(0, 100_000).prefault('60').meta({ section: azure }),

  LLM_COMPATIBLE_BASE_URL: httpUrl.optional().meta({ section: compatible }),
  LLM_COMPATIBLE_API_KEY: z.string().min(1).optional().meta({ section: compatible }),
  LLM_COMPATIBLE_MODEL: z.string().min(1).optional().meta({ section: compatible }),
  LLM_COMPATIBLE_RESPONSE_FORMAT: z.enum(responseFormats).prefault('json_schema').meta({
    section: compatible,
    doc: 'How JSON is requested: json_schema (structured outputs), json_object (JSON mode) or none (prompt only).',
  }),
  LLM_COMPATIBLE_MAX_CONCURRENCY: int(1, 100).prefault('1').meta({ section: compatible }),
  LLM_COMPATIBLE_REQUESTS_PER_MINUTE: int(0, 100_000).prefault('0').meta({ section: compatible }),
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
  for (const provider of providers) {
    const issue = insecureUrlIssue(provider, env.LLM_ALLOW_INSECURE_HTTP);
    if (issue) issues.push(issue);
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

const URL_VARIABLES: Record<ProviderKind, string> = {
  openai: 'OPENAI_BASE_URL',
  azure: 'AZURE_OPENAI_ENDPOINT',
  compatible: 'LLM_COMPATIBLE_BASE_URL',
};

/** Plain http:// would send the API key (and every prompt) in cleartext: only to loopback, or when explicitly allowed. */
function insecureUrlIssue(provider: ProviderConfig, allowInsecure: boolean) {
  if (!provider.baseUrl || allowInsecure || isLoopbackUrl(provider.baseUrl)) return undefined;
  if (new URL(provider.baseUrl).protocol !== 'http:') return undefined;
  return {
    variable: URL_VARIABLES[provider.name],
    reason:
      'must be https:// for a remote host (the API key would travel in cleartext); plain http:// only for a ' +
      'loopback host, or with LLM_ALLOW_INSECURE_HTTP=true',
  };
}

/** The parsed config with no provider: what tests and tools use when they need the offline catalogue. */
export function offlineLlmConfig(): LlmConfig {
  const result = toLlmConfig(llmEnvSchema.parse({}));
  if ('issues' in result) throw new Error('the default LLM config is invalid');
  return result.config;
}

// Embedding settings live beside the provider settings they fall back to; config/ reads both from here.
export { embeddingEnvShape, toEmbeddingConfig, type EmbeddingConfig } from './embedding-config';
