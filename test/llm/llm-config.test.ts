import { ConfigError, loadConfig } from '../../config';

// LLM settings come from the environment; a listed provider missing what it needs stops start-up naming the variable.

const base = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/x' };

test('no provider configured: the offline catalogue, with the default budget', () => {
  expect(loadConfig(base).llm).toMatchObject({
    providers: [],
    cache: true,
    budget: { maxTokens: 400_000, maxCostUsd: null },
  });
  expect(loadConfig({ ...base, LLM_PROVIDERS: 'offline' }).llm.providers).toEqual([]);
});

test('providers in failover order, each with its own limits', () => {
  const { llm } = loadConfig({
    ...base,
    LLM_PROVIDERS: 'compatible, openai,azure',
    OPENAI_API_KEY: 'sk-x',
    AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com',
    AZURE_OPENAI_API_KEY: 'az-key',
    AZURE_OPENAI_DEPLOYMENT: 'prod-4o',
    LLM_COMPATIBLE_BASE_URL: 'http://127.0.0.1:11434/v1',
    LLM_COMPATIBLE_MODEL: 'llama3.1',
    LLM_COMPATIBLE_RESPONSE_FORMAT: 'json_object',
    OPENAI_MAX_CONCURRENCY: '8',
    LLM_TIMEOUT: '30s',
    INTENT_BUDGET_TOKENS: '0',
    INTENT_BUDGET_USD: '2.5',
  });
  expect(llm.providers.map((p) => [p.name, p.model, p.maxConcurrency, p.responseFormat])).toEqual([
    ['compatible', 'llama3.1', 1, 'json_object'],
    ['openai', 'gpt-4o-mini', 8, 'json_schema'],
    ['azure', 'prod-4o', 4, 'json_schema'],
  ]);
  expect(llm.timeoutMs).toBe(30_000);
  expect(llm.budget).toEqual({ maxTokens: null, maxCostUsd: 2.5 });
});

test.each([
  [
    { LLM_PROVIDERS: 'openai' },
    [{ variable: 'OPENAI_API_KEY', reason: 'is required when LLM_PROVIDERS includes openai' }],
  ],
  [
    { LLM_PROVIDERS: 'azure', AZURE_OPENAI_API_KEY: 'k' },
    [
      { variable: 'AZURE_OPENAI_DEPLOYMENT', reason: 'is required when LLM_PROVIDERS includes azure' },
      { variable: 'AZURE_OPENAI_ENDPOINT', reason: 'is required when LLM_PROVIDERS includes azure' },
    ],
  ],
  [
    { LLM_PROVIDERS: 'compatible', LLM_COMPATIBLE_MODEL: 'm' },
    [{ variable: 'LLM_COMPATIBLE_BASE_URL', reason: 'is required when LLM_PROVIDERS includes compatible' }],
  ],
  [
    { LLM_PROVIDERS: 'anthropic' },
    [{ variable: 'LLM_PROVIDERS', reason: 'each entry must be one of openai, azure, compatible or offline' }],
  ],
  [{ LLM_TIMEOUT: 'soon' }, [{ variable: 'LLM_TIMEOUT', reason: 'must be a duration such as 500ms, 30s or 5m' }]],
])('%j → a ConfigError naming the variable', (env, issues) => {
  let error: unknown;
  try {
    loadConfig({ ...base, ...env });
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).issues).toEqual(issues);
});

test('a ConfigError never contains an API key', () => {
  expect(() => loadConfig({ ...base, LLM_PROVIDERS: 'openai,compatible', OPENAI_API_KEY: 'sk-secret-123456' })).toThrow(
    expect.objectContaining({ message: expect.not.stringContaining('sk-secret') }),
  );
});
