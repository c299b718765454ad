import OpenAI, { AzureOpenAI } from 'openai';
import type { LlmConfig, ProviderConfig } from './config';
import { ProviderLimiter } from './limiter';

export interface Provider {
  config: ProviderConfig;
  client: OpenAI;
  limiter: ProviderLimiter;
}

/**
 * One `openai` client per configured provider. Retries are off: Temporal's activity retries own
 * them (visible in history, durable across crashes). Every option is explicit so stray OPENAI_*
 * environment variables (base URL, organisation, headers) cannot redirect a provider.
 */
export function createProvider(config: ProviderConfig, llm: LlmConfig): Provider {
  const common = {
    timeout: llm.timeoutMs,
    maxRetries: 0,
    organization: null,
    project: null,
    defaultHeaders: { 'x-client': 'quantumlayer' },
  };
  const client =
    config.name === 'azure'
      ? new AzureOpenAI({
          ...common,
          apiKey: config.apiKey,
          apiVersion: config.apiVersion,
          deployment: config.deployment,
          baseURL: `${config.baseUrl!.replace(/\/+$/, '')}/openai`,
        })
      : new OpenAI({
          ...common,
          // Local servers (Ollama, llama.cpp) ignore the key; the client insists on one.
          apiKey: config.apiKey ?? 'no-key',
          baseURL: config.baseUrl ?? 'https://api.openai.com/v1',
        });
  return { config, client, limiter: new ProviderLimiter(config.maxConcurrency, config.requestsPerMinute) };
}
