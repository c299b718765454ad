/**
 * Brings up what QuantumLayer needs locally: Temporal, S3 (SeaweedFS) and the PostgreSQL database.
 * Safe to run again: services already answering at their configured address are left alone.
 *   npx tsx scripts/up.ts
 */
import { isAbsolute, relative } from 'node:path';
import { loadConfigOrExit } from '../config';
import { startServices, type ServicesStatus } from './services';

/** A path relative to the working directory when inside it, else absolute. */
function shortPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside.startsWith('..') || isAbsolute(inside) ? path : inside;
}

function describe(status: ServicesStatus): string {
  const { temporal, s3, database } = status;
  const managed = (service: { startedByUs: boolean; pid?: number; logFile?: string }) =>
    service.pid === undefined
      ? 'not managed by up'
      : `${service.startedByUs ? 'started now' : 'already running'}, pid ${service.pid}, log ${shortPath(service.logFile ?? '')}`;
  const migrations = database.applied.length === 0 ? 'no pending migrations' : `applied ${database.applied.join(', ')}`;
  return [
    `Temporal  ${temporal.address}  namespace ${temporal.namespace}  (${managed(temporal)})`,
    `          Web UI ${temporal.uiUrl}`,
    `S3        ${s3.endpoint}  bucket ${s3.bucket}${s3.bucketCreated ? ' (created)' : ''}  (${managed(s3)})`,
    `Database  ${database.url}  (${database.created ? 'created' : 'exists'}, ${migrations})`,
    ...(database.embedded
      ? [`          embedded PostgreSQL in ${shortPath(database.embedded.clusterDir)} (${managed(database.embedded)})`]
      : []),
  ].join('\n');
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const started = Date.now();
  // embeddedPostgres: a laptop without PostgreSQL gets a project-local one (docs/deployment.md)
  const status = await startServices(config, { embeddedPostgres: true, log: (line) => console.log(`  ${line}`) });
  console.log(
    `${describe(status)}\nReady in ${((Date.now() - started) / 1000).toFixed(1)} s. Stop with: npx tsx scripts/down.ts`,
  );
}

main().catch((error: unknown) => {
  console.error(`up failed:\n${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
