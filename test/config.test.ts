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
  expect(config.gate).toEqual({ timeout: '7d', autoApprove: false });
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
