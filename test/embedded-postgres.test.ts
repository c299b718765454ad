import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { prepareDatabase } from '../adapters/db/migrate';
import { loadConfig } from '../config';
import { startServices, stopServices } from '../scripts/services';
import { canConnect, isPortFree } from '../scripts/services/net';
import { isProcessAlive } from '../scripts/services/process';

// The bring-up on a machine without PostgreSQL: a port of this file's own where nothing runs
// (27260 + the run's offset: above the shared stack's 27233–27257). Temporal and S3 are the shared test stack's.
const port = 27260 + Number(process.env.QLP_TEST_PORT_OFFSET ?? 0);
const dataDir = mkdtempSync(join(tmpdir(), 'qlp-embedded-pg-'));
chmodSync(dataDir, 0o755); // as a project's .data is: run as root, the server (user nobody) must reach its cluster
const password = 'embedded-test-secret';
const databaseUrl = `postgresql://qlp_embedded:${password}@127.0.0.1:${port}/qlp_embedded`;
const config = loadConfig({ ...process.env, QLP_DATA_DIR: dataDir, DATABASE_URL: databaseUrl });

async function query<T>(sql: string, url = databaseUrl): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  await stopServices(dataDir, { graceMs: 5000 }); // only matters when a test failed half-way
  rmSync(dataDir, { recursive: true, force: true });
});

test('with nothing at DATABASE_URL, the bring-up starts a project-local PostgreSQL, migrates it, and down stops it', async () => {
  expect(await canConnect({ host: '127.0.0.1', port })).toBe(false);

  const started = performance.now();
  const status = await startServices(config, { embeddedPostgres: true, prepareDatabase });
  console.log(`embedded PostgreSQL started and migrated in ${Math.round(performance.now() - started)} ms`);
  const embedded = status.database.embedded!;
  expect(embedded).toMatchObject({ startedByUs: true, clusterDir: join(dataDir, 'postgres') });
  expect(status.database).toMatchObject({ created: true, url: databaseUrl.replace(password, '***') });
  expect(status.database.applied.length).toBeGreaterThan(0);
  // The shared stack's servers answered already: this run manages the database server only.
  expect(status.temporal.startedByUs).toBe(false);
  expect(status.s3.startedByUs).toBe(false);

  // A real server: the migrations' tables, a write and a read, pgvector (a migration needs it).
  const [version] = await query<{ server_version: string }>('SHOW server_version');
  expect(version!.server_version).toMatch(/^18\./);
  const applied = await query<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations"');
  expect(applied.map((row) => row.migration_name).sort()).toEqual([...status.database.applied].sort());
  await query('CREATE TABLE embedded_probe (note text)');
  await query("INSERT INTO embedded_probe VALUES ('kept across restarts')");
  const [distance] = await query<{ d: number }>("SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector AS d");
  expect(distance!.d).toBe(1);

  // The password in DATABASE_URL is checked (SCRAM), not trusted; the server never runs as root.
  await expect(query('SELECT 1', databaseUrl.replace(password, 'wrong'))).rejects.toThrow(
    /password authentication failed/,
  );
  const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${embedded.pid}/status`, 'utf8'))?.[1];
  if (process.getuid?.() === 0) expect(uid).not.toBe('0');

  // Again: the running server is found, nothing new is started or applied.
  const again = await startServices(config, { embeddedPostgres: true, prepareDatabase });
  expect(again.database).toMatchObject({ created: false, applied: [] });
  expect(again.database.embedded).toMatchObject({ startedByUs: false, pid: embedded.pid });

  // `npm run down` (scripts/down.ts) stops it, with clients still connected (a fast shutdown, not a wait for them).
  const connected = new Client({ connectionString: databaseUrl });
  connected.on('error', () => undefined); // the server ends this session on shutdown
  await connected.connect();
  const down = spawnSync('npx', ['tsx', 'scripts/down.ts'], {
    cwd: resolve(__dirname, '..'),
    env: { ...process.env, QLP_DATA_DIR: dataDir, DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  });
  await connected.end().catch(() => undefined);
  expect(down.status).toBe(0);
  expect(down.stdout).toMatch(new RegExp(`postgres +pid ${embedded.pid} stopped`));
  expect(isProcessAlive(embedded.pid)).toBe(false);
  expect(await isPortFree('127.0.0.1', port)).toBe(true);

  // The next bring-up reuses the cluster in the data directory: the data is still there.
  const restarted = await startServices(config, { embeddedPostgres: true, prepareDatabase });
  expect(restarted.database).toMatchObject({ created: false, applied: [] });
  expect(restarted.database.embedded).toMatchObject({ startedByUs: true });
  expect(await query('SELECT note FROM embedded_probe')).toEqual([{ note: 'kept across restarts' }]);
  expect(await stopServices(dataDir)).toEqual([
    { name: 'postgres', pid: restarted.database.embedded!.pid, outcome: 'stopped' },
  ]);
});

test('without the option the bring-up does not start one, and says what to fix', async () => {
  await expect(startServices(config, { prepareDatabase })).rejects.toThrow(
    `Database: PostgreSQL at 127.0.0.1:${port} is unreachable: start it or fix DATABASE_URL`,
  );
  expect(await canConnect({ host: '127.0.0.1', port })).toBe(false);
});
