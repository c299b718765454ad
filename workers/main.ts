import { NativeConnection } from '@temporalio/worker';
import { createDatabase } from '../adapters/db/client';
import { checkSandboxCapacity, SandboxSelector } from '../adapters/sandbox';
import { loadLocalSigner } from '../adapters/signing/local-key';
import { ObjectStore } from '../adapters/storage/s3';
import { temporalDataConverter } from '../adapters/temporal/codec-data-converter';
import { workerRegistry } from '../adapters/telemetry/metrics';
import { serveMetrics } from '../adapters/telemetry/metrics-server';
import { installTemporalRuntime } from '../adapters/telemetry/runtime';
import { configureLogging, getLogger } from '../adapters/telemetry/logger';
import { temporalLogger } from '../adapters/telemetry/logger-temporal';
import { startTracing } from '../adapters/telemetry/tracing';
import { loadConfigOrExit } from '../config';
import { validationTaskQueue } from '../contracts/workflow';
import { createWorker } from './create-worker';

const log = getLogger('worker');
import { reembedOnModelChange } from './reembed-start';

/** The worker process (WORKER_ROLES): runs until SIGINT/SIGTERM (the SDK's runtime drains its workers), then exits. */
async function main() {
  const config = loadConfigOrExit();
  configureLogging({ level: config.logLevel });
  // Before anything connects: spans (exported when OTEL_EXPORTER_OTLP_ENDPOINT is set) and the trace context.
  startTracing({ serviceName: 'quantumlayer-worker' });
  const { roles, validationThreads } = config.worker;
  if (roles.includes('validation')) refuseOvercommit(() => checkSandboxCapacity(config.sandbox));
  // Before the first connection: the SDK takes its runtime (logger, metrics exporter) once per process.
  installTemporalRuntime({ logger: temporalLogger(), metricsBind: config.metrics.temporalBind });
  const metrics =
    config.metrics.workerBind &&
    (await serveMetrics(config.metrics.workerBind, workerRegistry({ roles, taskQueue: config.temporal.taskQueue })));
  if (metrics) log.info(`worker: metrics at http://${metrics.address}/metrics`);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const db = createDatabase(config.databaseUrl);
  const store = new ObjectStore(config.s3);
  const sandbox = new SandboxSelector(config.sandbox);
  if (roles.includes('validation')) {
    // Chosen now (leftovers of dead workers removed); without isolation, each validation looks again.
    const choice = await sandbox.start();
    if (choice.driver)
      log.info(
        `worker: layer 2 runs generated code in the ${choice.driver.name} sandbox (${choice.reaped} leftovers removed)`,
      );
    else log.warn(`worker: layer 2 is not assessed: ${choice.reason}`);
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
      embeddings: config.embeddings,
      dataConverter: temporalDataConverter(config.codec.encryption),
      ...(roles.includes('orchestration') && {
        signer: loadLocalSigner(config.security.capsuleKeys.dir, config.security.mode),
      }),
    });
    const queues = [
      roles.includes('orchestration') && `"${config.temporal.taskQueue}" (orchestration)`,
      roles.includes('validation') && `"${validationTaskQueue(config.temporal.taskQueue)}" (validation)`,
    ].filter(Boolean);
    log.info(`worker: polling ${queues.join(' and ')} on ${config.temporal.address}`);
    // A changed EMBEDDING_PROVIDER/EMBEDDING_MODEL: the stored intents get vectors of the new model (docs/similar-intents.md).
    if (roles.includes('orchestration')) reembedOnModelChange(config, db);
    await worker.run();
  } finally {
    await db.$disconnect();
    await connection.close();
    if (metrics) await metrics.close();
  }
}

/** A worker whose sandbox runs could together exceed the machine's memory does not start, and says why. */
function refuseOvercommit(check: () => number): void {
  try {
    check();
  } catch (error) {
    log.fatal(`worker: ${(error as Error).message}`);
    process.exit(78); // EX_CONFIG
  }
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, `worker failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
