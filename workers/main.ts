import { NativeConnection } from '@temporalio/worker';
import { createDatabase } from '../adapters/db/client';
import { SandboxSelector } from '../adapters/sandbox';
import { ObjectStore } from '../adapters/storage/s3';
import { loadConfigOrExit } from '../config';
import { createWorker } from './create-worker';

/** The worker process: runs until SIGINT/SIGTERM, then drains in-flight work and exits. */
async function main() {
  const config = loadConfigOrExit();
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const db = createDatabase(config.databaseUrl);
  const store = new ObjectStore(config.s3);
  // Chosen now (leftovers of dead workers removed); without isolation, each validation looks again.
  const sandbox = new SandboxSelector(config.sandbox);
  const choice = await sandbox.start();
  console.log(
    choice.driver
      ? `worker: layer 2 runs generated code in the ${choice.driver.name} sandbox (${choice.reaped} leftovers removed)`
      : `worker: WARNING layer 2 is not assessed: ${choice.reason}`,
  );
  try {
    const worker = await createWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      db,
      store,
      llm: config.llm,
      sandbox,
      validation: { semgrepPath: config.validation.semgrepPath },
    });
    console.log(`worker: polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address}`);
    await worker.run();
  } finally {
    await db.$disconnect();
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error('worker failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
