import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createDatabase, type Database } from '../adapters/db/client';
import { loadConfig } from '../config';
import { call } from './support/api';
import { createStackKeys, eventually, type StackKeys } from './support/stack';

// The app image (deploy/Dockerfile), built here with nothing pulled (scripts/build-image), runs as the API and
// as both workers against the shared test stack's Temporal, PostgreSQL and SeaweedFS (host network).
const root = resolve(__dirname, '..');
const image = 'quantumlayer:test';
const apiPort = 27262 + Number(process.env.QLP_TEST_PORT_OFFSET ?? 0);
const apiUrl = `http://127.0.0.1:${apiPort}/api/v1`;
const metricsPort = apiPort + 2;
const taskQueue = `test-deploy-image-${randomUUID()}`;
const config = loadConfig();
const containers: string[] = [];
let db: Database;
let keys: StackKeys;

function docker(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync('docker', args, { encoding: 'utf8', env, maxBuffer: 16 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`docker ${args[0]} failed: ${result.stderr || result.error?.message}`);
  return result.stdout.trim();
}

/** Starts the image with the test stack's settings; values travel in the environment, never in argv. */
function run(name: string, command: string[], settings: Record<string, string>): string {
  const env = {
    TEMPORAL_ADDRESS: config.temporal.address,
    TEMPORAL_NAMESPACE: config.temporal.namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: config.databaseUrl,
    S3_ENDPOINT: config.s3.endpoint,
    S3_BUCKET: config.s3.bucket,
    S3_ACCESS_KEY: config.s3.accessKey,
    S3_SECRET_KEY: config.s3.secretKey,
    ...settings,
  };
  const id = docker(
    [
      'run',
      '--detach',
      '--network=host',
      `--name=qlp-deploy-test-${name}-${process.pid}`,
      ...Object.keys(env).flatMap((key) => ['--env', key]),
      image,
      ...command,
    ],
    { ...process.env, ...env },
  );
  containers.push(id);
  return id;
}

const logsOf = (id: string) => {
  const result = spawnSync('docker', ['logs', id], { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`;
};

beforeAll(async () => {
  const started = performance.now();
  const build = spawnSync(join(root, 'scripts', 'build-image'), [image], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`scripts/build-image failed:\n${build.stderr}`);
  console.log(`image built in ${Math.round(performance.now() - started)} ms`);
  db = createDatabase(config.databaseUrl, { maxConnections: 2 });
  keys = await createStackKeys(db, 'deploy-image');
}, 1_200_000); // a first build installs the production dependencies and imports the base: minutes on a busy machine

afterAll(async () => {
  for (const id of containers) spawnSync('docker', ['rm', '--force', id]);
  await db?.$disconnect();
});

test('the bring-up command of the compose file and the Kubernetes Job runs in the image', () => {
  const id = run('bring-up', ['node', 'dist/scripts/up.js'], {});
  const exit = docker(['wait', id]);
  expect({ exit, logs: logsOf(id) }).toMatchObject({ exit: '0', logs: expect.stringContaining('Ready in') });
});

test('the image answers /api/v1/health from the container, and its workers take an intent to the gate', async () => {
  const api = run('api', ['node', 'dist/api/server.js'], { API_HOST: '127.0.0.1', API_PORT: String(apiPort) });
  const health = await eventually(
    async () => {
      const response = await call(`${apiUrl}/health`, { token: null }).catch(() => undefined);
      return response?.status === 200 ? response.body : undefined;
    },
    `the API container to answer /health (logs: ${logsOf(api).slice(-2000)})`,
  );
  expect(health).toMatchObject({
    status: 'ok',
    checks: { temporal: { ok: true }, database: { ok: true }, s3: { ok: true } },
  });
  const inspect = JSON.parse(docker(['inspect', api]))[0];
  expect(inspect.Config.User).toBe('1000:1000'); // not root
  expect(inspect.Args.join(' ')).not.toContain(config.s3.secretKey); // the container's command line holds no secret

  // Both worker roles, as in production (separate containers); layer 2 off: no sandbox inside this container.
  const orchestration = run('orchestration', ['node', 'dist/workers/main.js'], {
    WORKER_ROLES: 'orchestration',
    WORKER_METRICS_BIND: `127.0.0.1:${metricsPort}`, // what the Kubernetes liveness probe asks
  });
  const validation = run('validation', ['node', 'dist/workers/main.js'], {
    WORKER_ROLES: 'validation',
    VALIDATION_THREADS: '1',
    SANDBOX_DRIVER: 'none',
  });
  for (const worker of [orchestration, validation]) {
    await eventually(
      async () => (logsOf(worker).includes('polling') ? true : undefined),
      `a worker container to poll (logs: ${logsOf(worker).slice(-2000)})`,
    );
  }

  const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(metrics.status).toBe(200);

  const submitted = await call(`${apiUrl}/intents`, {
    body: { text: 'Build a TypeScript module that tracks library book loans' },
    token: keys.submitter,
  });
  expect(submitted.status).toBe(202);
  const waiting = await eventually(async () => {
    const { body } = await call(`${apiUrl}/intents/${submitted.body.id}`, { token: keys.submitter });
    if (['FAILED', 'CANCELLED', 'REJECTED'].includes(body.status)) throw new Error(`intent ended ${body.status}`);
    return body.status === 'AWAITING_APPROVAL' ? body : undefined;
  }, 'the intent to reach the gate through the containers');
  expect(waiting.validation).toBeDefined();
});
