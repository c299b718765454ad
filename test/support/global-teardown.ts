import { rm } from 'node:fs/promises';
import { Client } from 'pg';
import { loadConfig } from '../../config';
import { stopServices } from '../../scripts/services';

/** Stops what global setup started and drops the run's database and data directory. */
export default async function globalTeardown(): Promise<void> {
  const config = loadConfig();
  await stopServices(config.dataDir, { graceMs: 5_000 });
  const url = new URL(config.databaseUrl);
  const database = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();
  await rm(config.dataDir, { recursive: true, force: true });
}
