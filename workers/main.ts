import { NativeConnection } from '@temporalio/worker';
import { createDatabase } from '../adapters/db/client';
import { prepareSandbox } from '../adapters/sandbox';
import { ObjectStore } from '../adapters/storage/s3';
import { loadConfigOrExit } from '../config';
import { createWorker } from './create-worker';

/** The worker process: runs until SIGINT/SIGTERM, then drains in-flight work and exits. */
async function main() {
  const config = loadConfigOrExit();
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const db = createDatabase(config.databaseUrl);
  const store = new ObjectStore(config.s3);
  const sandbox = await prepareSandbox(config.sandbox);
  console.log(
    sandbox.driver
      ? `worker: layer 2 runs generated code in the ${sandbox.driver.name} sandbox (${sandbox.reaped} leftovers removed)`
      : `worker: WARNING layer 2 is not assessed: ${sandbox.reason}`,
  );
  try {
    const worker = await createWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      db,
      store,
      llm: config.llm,
      validation: {
        semgrepPath: config.validation.semgrepPath,
        // Without isolation at start, each validation looks again (an engine may have started since).
        sandbox: () => (sandbox.driver ? Promise.resolve(sandbox) : prepareSandbox(config.sandbox)),
        sandboxLimits: config.sandbox.limits,
      },
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
