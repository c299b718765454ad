/**
 * Stops the servers that scripts/up.ts started (those with pid files under QLP_DATA_DIR/pids).
 * Servers it did not start are left alone. Data stays in QLP_DATA_DIR.
 *   npx tsx scripts/down.ts
 */
import { loadConfigOrExit } from '../config';
import { listManagedNames, stopServices, type StopResult } from './services';

const OUTCOME: Record<StopResult['outcome'], string> = {
  stopped: 'stopped',
  killed: 'killed (did not exit after SIGTERM)',
  'not-running': 'was not running',
  'not-ours': 'pid now belongs to another program: left alone',
};

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const names = listManagedNames(config.dataDir);
  // SeaweedFS's filer waits up to 15 s for its own S3 gateway to let go: say so rather than seem stuck
  if (names.length > 0)
    console.log(`Stopping ${names.join(', ')}${names.includes('s3') ? ' (S3 takes ~15 s to stop cleanly)' : ''}...`);
  const results = await stopServices(config.dataDir);
  if (results.length === 0) console.log(`Nothing to stop (no pid files in ${config.dataDir}/pids).`);
  for (const result of results) {
    console.log(
      `${result.name.padEnd(9)} ${result.pid === undefined ? '' : `pid ${result.pid} `}${OUTCOME[result.outcome]}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(`down failed:\n${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
