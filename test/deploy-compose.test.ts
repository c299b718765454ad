import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { envSchema, loadConfig } from '../config';

// docker-compose.temporal.yml, the single-node deployment, checked by Compose itself (`docker-compose config`:
// Debian's docker-compose, installed by scripts/sandbox-setup) and against our settings.
const root = resolve(__dirname, '..');
const composeFile = join(root, 'docker-compose.temporal.yml');
const scratch = mkdtempSync(join(tmpdir(), 'qlp-compose-'));
// The values an operator puts in .env (deploy/compose.env.example); a developer's own .env must not leak in.
const envFile = join(scratch, 'compose.env');
writeFileSync(
  envFile,
  [
    'POSTGRES_PASSWORD=pg-secret-value',
    'S3_ACCESS_KEY=compose-access',
    'S3_SECRET_KEY=compose-secret-value',
    `APPROVAL_SIGNING_KEY=${'ab'.repeat(32)}`,
  ].join('\n'),
);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function compose(file: string, ...args: string[]) {
  const result = spawnSync('docker-compose', ['--env-file', envFile, '-f', file, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  if (result.error)
    throw new Error(`docker-compose is missing (scripts/sandbox-setup installs it): ${result.error.message}`);
  return result;
}

const APP_SERVICES = ['bring-up', 'api', 'worker-orchestration', 'worker-validation'];

test('compose validates the file, and every app container gets a configuration the app accepts', () => {
  const result = compose(composeFile, 'config');
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  const resolved = parse(result.stdout) as {
    services: Record<string, { image: string; command?: string[]; environment: Record<string, string | number> }>;
    volumes: Record<string, unknown>;
  };
  expect(Object.keys(resolved.services).sort()).toEqual(
    ['postgres', 'temporal', 'temporal-ui', 'seaweedfs', ...APP_SERVICES].sort(),
  );
  const settings = new Set(Object.keys(envSchema.shape));
  for (const name of APP_SERVICES) {
    const service = resolved.services[name]!;
    expect(service.image).toBe('quantumlayer:local'); // built by scripts/build-image
    const env = Object.fromEntries(Object.entries(service.environment).map(([key, value]) => [key, String(value)]));
    expect(Object.keys(env).filter((key) => !settings.has(key))).toEqual([]); // no misspelt setting
    const config = loadConfig(env);
    expect(config.databaseUrl).toBe('postgresql://quantumlayer:pg-secret-value@postgres:5432/quantumlayer');
    expect(config.s3).toMatchObject({ endpoint: 'http://seaweedfs:8333', secretKey: 'compose-secret-value' });
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.security.mode).toBe('production');
  }
  expect(resolved.services['worker-orchestration']!.environment.WORKER_ROLES).toBe('orchestration');
  expect(resolved.services['worker-validation']!.environment.WORKER_ROLES).toBe('validation');
  expect(resolved.services.api!.command).toEqual(['node', 'dist/api/server.js']);
  expect(resolved.services['bring-up']!.command).toEqual(['node', 'dist/scripts/up.js']);
  // The database needs pgvector (a migration creates the extension).
  expect(resolved.services.postgres!.image).toMatch(/^pgvector\/pgvector:.*pg18$/);
  // The secrets come from the env file, not from the compose file.
  expect(readFileSync(composeFile, 'utf8')).not.toContain('compose-secret-value');
});

test('a broken compose file fails validation, naming the problem', () => {
  const broken = join(scratch, 'broken.yml');
  writeFileSync(
    broken,
    readFileSync(composeFile, 'utf8').replace(
      'depends_on:\n      bring-up: { condition: service_completed_successfully }',
      'depends_on:\n      bring-upp: { condition: service_completed_successfully }',
    ),
  );
  const dependency = compose(broken, 'config', '-q');
  expect(dependency.status).not.toBe(0);
  expect(dependency.stderr).toMatch(/bring-upp/);

  writeFileSync(
    broken,
    readFileSync(composeFile, 'utf8').replace(
      '    restart: unless-stopped\n    environment:\n      POSTGRES_USER',
      '    restart: unless-stopped\n    enviroment:\n      POSTGRES_USER',
    ),
  );
  const misspelt = compose(broken, 'config', '-q');
  expect(misspelt.status).not.toBe(0);
  expect(misspelt.stderr).toMatch(/enviroment/);
});
