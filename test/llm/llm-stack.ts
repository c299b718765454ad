import type { LlmConfig, ProviderConfig } from '../../adapters/llm';
import { offlineLlmConfig } from '../../adapters/llm/config';
import type { ScriptedLlm } from '../support/scripted-llm';
import { startWorker, type RunningWorker, type TestStack } from '../support/stack';
import type { CreateWorkerOptions } from '../../workers/create-worker';

export const TEST_KEY = 'sk-test-scripted-0123456789abcdef';

/** A `compatible` provider pointing at the scripted server, with the platform's defaults otherwise. */
export function providerFor(llm: ScriptedLlm, overrides: Partial<ProviderConfig> = {}): ProviderConfig {
  return {
    name: 'compatible',
    model: 'scripted-model',
    baseUrl: llm.baseUrl,
    apiKey: TEST_KEY,
    responseFormat: 'json_schema',
    maxConcurrency: 4,
    requestsPerMinute: 0,
    keyVariable: 'LLM_COMPATIBLE_API_KEY',
    ...overrides,
  };
}

export function llmConfig(providers: ProviderConfig[], overrides: Partial<LlmConfig> = {}): LlmConfig {
  return { ...offlineLlmConfig(), providers, timeoutMs: 5_000, ...overrides };
}

/** A real worker on the stack's task queue whose activities use `llm` instead of the environment's config. */
export function startLlmWorker(
  stack: TestStack,
  llm: LlmConfig,
  options: Pick<CreateWorkerOptions, 'wrapActivities' | 'shutdownGraceTime'> = {},
): Promise<RunningWorker> {
  return startWorker(stack, { ...options, llm });
}
