import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../config';
import { startServices } from '../../scripts/services';
import { prepareDatabase } from '../../adapters/db/migrate';
import { testEnvironment } from './test-env';

/** Starts the shared test stack once; the environment it sets is inherited by every test worker. */
export default async function globalSetup(): Promise<void> {
  const runId = `${process.pid}_${randomBytes(3).toString('hex')}`;
  Object.assign(process.env, testEnvironment(runId));
  const started = performance.now();
  await startServices(loadConfig(), { temporalInMemory: true, prepareDatabase });
  console.log(`\ntest stack ready in ${Math.round(performance.now() - started)} ms`);
}
