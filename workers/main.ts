import { NativeConnection } from '@temporalio/worker';
import { createDatabase } from '../adapters/db/client';
import { checkSandboxCapacity, SandboxSelector } from '../adapters/sandbox';
import { loadLocalSigner } from '../adapters/signing/local-key';
import { ObjectStore } from '../adapters/storage/s3';
import { loadConfigOrExit } from '../config';
import { validationTaskQueue } from '../contracts/workflow';
import { createWorker } from './create-worker';

/** The worker process (WORKER_ROLES): runs until SIGINT/SIGTERM (the SDK's runtime drains its workers), then exits. */
async function main() {
  const config = loadConfigOrExit();
  const { roles, validationThreads } = config.worker;
  if (roles.includes('validation')) refuseOvercommit(() => checkSandboxCapacity(config.sandbox));
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const db = createDatabase(config.databaseUrl);
  const store = new ObjectStore(config.s3);
  const sandbox = new SandboxSelector(config.sandbox);
  if (roles.includes('validation')) {
    // Chosen now (leftovers of dead workers removed); without isolation, each validation looks again.
    const choice = await sandbox.start();
    console.log(
      choice.driver
        ? `worker: layer 2 runs generated code in the ${choice.driver.name} sandbox (${choice.reaped} leftovers removed)`
        : `worker: WARNING layer 2 is not assessed: ${choice.reason}`,
    );
  }
  try {
    const worker = await createWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      roles,
      validationThreads,
      db,
      store,
      llm: config.llm,
      sandbox,
      validation: { semgrepPath: config.validation.semgrepPath },
      webhooks: config.webhooks,
      ...(roles.includes('orchestration') && {
        signer: loadLocalSigner(config.security.capsuleKeys.dir, config.security.mode),
      }),
    });
    const queues = [
      roles.includes('orchestration') && `"${config.temporal.taskQueue}" (orchestration)`,
      roles.includes('validation') && `"${validationTaskQueue(config.temporal.taskQueue)}" (validation)`,
    ].filter(Boolean);
    console.log(`worker: polling ${queues.join(' and ')} on ${config.temporal.address}`);
    await worker.run();
  } finally {
    await db.$disconnect();
    await connection.close();
  }
}

/** A worker whose sandbox runs could together exceed the machine's memory does not start, and says why. */
function refuseOvercommit(check: () => number): void {
  try {
    check();
  } catch (error) {
    console.error(`worker: ${(error as Error).message}`);
    process.exit(78); // EX_CONFIG
  }
}

main().catch((error: unknown) => {
  console.error('worker failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
