import { ConfigError, loadConfig } from '../config';

test('with nothing set, the embedded defaults describe a complete local stack', () => {
  const config = loadConfig({});
  expect(config.temporal).toMatchObject({
    address: '127.0.0.1:7233',
    namespace: 'default',
    uiUrl: 'http://127.0.0.1:8233',
  });
  expect(config.s3).toMatchObject({ endpoint: 'http://127.0.0.1:8333', bucket: 'quantumlayer' });
  expect(config.databaseUrl).toBe('postgresql://postgres@127.0.0.1:5432/quantumlayer');
  expect(config.gate).toEqual({ timeout: '7d', autoApprove: false, repairRounds: 2 });
});

test('empty variables count as unset', () => {
  expect(loadConfig({ TEMPORAL_ADDRESS: '', API_PORT: '' }).temporal.address).toBe('127.0.0.1:7233');
});

test.each([
  ['TEMPORAL_ADDRESS', 'localhost', 'must be host:port, e.g. 127.0.0.1:7233'],
  ['DATABASE_URL', 'mysql://x', 'must be a postgresql:// connection URL'],
  ['S3_BUCKET', 'Bad_Bucket', 'must be a valid S3 bucket name'],
  ['GATE_TIMEOUT', 'forever', 'must be a duration such as 500ms, 30s, 10m, 2h or 7d'],
  ['AUTO_APPROVE', 'perhaps', 'must be true or false'],
])('an invalid %s stops start-up with a message naming it', (variable, value, reason) => {
  expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
  try {
    loadConfig({ [variable]: value });
  } catch (error) {
    expect((error as ConfigError).issues).toEqual([{ variable, reason }]);
    expect((error as ConfigError).message).toContain(`${variable}: ${reason}`);
  }
});

test('a secret is never echoed in a configuration error', () => {
  try {
    loadConfig({ S3_SECRET_KEY: 'short', S3_ACCESS_KEY: 'k' });
    throw new Error('expected a ConfigError');
  } catch (error) {
    expect((error as ConfigError).issues.map((i) => i.variable).sort()).toEqual(['S3_ACCESS_KEY', 'S3_SECRET_KEY']);
    expect((error as Error).message).not.toContain('short');
  }
});

describe('remote LLM endpoints must use https', () => {
  const compatible = { LLM_PROVIDERS: 'compatible', LLM_COMPATIBLE_MODEL: 'm', LLM_COMPATIBLE_API_KEY: 'secret-key' };

  test.each([
    [
      'OPENAI_BASE_URL',
      { LLM_PROVIDERS: 'openai', OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'http://proxy.example/v1' },
    ],
    [
      'AZURE_OPENAI_ENDPOINT',
      {
        LLM_PROVIDERS: 'azure',
        AZURE_OPENAI_API_KEY: 'k',
        AZURE_OPENAI_DEPLOYMENT: 'd',
        AZURE_OPENAI_ENDPOINT: 'http://x.openai.azure.com',
      },
    ],
    ['LLM_COMPATIBLE_BASE_URL', { ...compatible, LLM_COMPATIBLE_BASE_URL: 'http://10.0.0.5:8000/v1' }],
  ])('plain http:// to a remote host in %s stops start-up, naming the variable and the way out', (variable, env) => {
    try {
      loadConfig(env);
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues).toEqual([
        {
          variable,
          reason: expect.stringMatching(/must be https:\/\/ for a remote host.*LLM_ALLOW_INSECURE_HTTP=true/),
        },
      ]);
      expect((error as Error).message).not.toContain('secret-key');
    }
  });

  test.each([
    'http://127.0.0.1:11434/v1',
    'http://localhost:8000/v1',
    'http://[::1]:8080/v1',
    'https://llm.example/v1',
  ])('%s is accepted: loopback or https', (url) => {
    expect(loadConfig({ ...compatible, LLM_COMPATIBLE_BASE_URL: url }).llm.providers[0]!.baseUrl).toBe(url);
  });

  test('LLM_ALLOW_INSECURE_HTTP=true allows a remote http:// endpoint explicitly', () => {
    const env = { ...compatible, LLM_COMPATIBLE_BASE_URL: 'http://gpu-box.internal:8000/v1' };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(loadConfig({ ...env, LLM_ALLOW_INSECURE_HTTP: 'true' }).llm.providers[0]!.baseUrl).toBe(
      'http://gpu-box.internal:8000/v1',
    );
  });

  test('a look-alike loopback name is remote', () => {
    const env = { ...compatible, LLM_COMPATIBLE_BASE_URL: 'http://127.0.0.1.evil.example/v1' };
    expect(() => loadConfig(env)).toThrow(/LLM_COMPATIBLE_BASE_URL: must be https:\/\//);
  });
});

describe('the development S3 credentials', () => {
  test('are fine for a store on this machine (the default local SeaweedFS)', () => {
    expect(loadConfig({ S3_ENDPOINT: 'http://localhost:8333' }).s3.accessKey).toBe('qlp-dev-access-key');
  });

  test('are refused for a non-local endpoint with a clear start-up error naming both variables', () => {
    try {
      loadConfig({ S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues.map((issue) => issue.variable)).toEqual(['S3_ACCESS_KEY', 'S3_SECRET_KEY']);
      expect((error as Error).message).toMatch(
        /S3_ACCESS_KEY: is the development default, refused for the non-local S3 endpoint s3\.eu-west-1\.amazonaws\.com/,
      );
      expect((error as Error).message).not.toContain('qlp-dev-secret-key-change-me');
    }
  });

  test('a non-local endpoint with its own credentials is accepted, and one dev credential left over is still named', () => {
    const remote = { S3_ENDPOINT: 'http://minio:9000', S3_ACCESS_KEY: 'quantumlayer', S3_SECRET_KEY: 'a-real-secret' };
    expect(loadConfig(remote).s3.endpoint).toBe('http://minio:9000');
    expect(() => loadConfig({ ...remote, S3_SECRET_KEY: undefined })).toThrow(
      /S3_SECRET_KEY: is the development default/,
    );
  });
});
