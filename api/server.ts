import { createDatabase } from '../adapters/db/client';
import { ObjectStore } from '../adapters/storage/s3';
import { createTemporalClient } from '../adapters/temporal/client';
import { configureLogging, getLogger } from '../adapters/telemetry/logger';
import { startTracing } from '../adapters/telemetry/tracing';
import { loadConfigOrExit } from '../config';
import { createApp } from './app';
import { apiDependencies } from './dependencies';
import { listen } from './listen';

const log = getLogger('api');

async function main() {
  const config = loadConfigOrExit();
  configureLogging({ level: config.logLevel });
  // Before anything connects: spans (exported when OTEL_EXPORTER_OTLP_ENDPOINT is set) and the trace context.
  startTracing({ serviceName: 'quantumlayer-api' });
  const db = createDatabase(config.databaseUrl);
  const temporal = await createTemporalClient(config);
  const app = createApp(apiDependencies({ config, db, temporal, store: new ObjectStore(config.s3) }));
  const server = await listen(app, config.api.port, config.api.host).catch((error: Error) => {
    log.fatal(`api: cannot listen on ${config.api.host}:${config.api.port}: ${error.message} (set API_PORT)`);
    process.exit(1);
  });
  log.info(`api: listening on http://${config.api.host}:${config.api.port}/api/v1`);
  const stop = () => {
    server.close(() => {
      void Promise.all([db.$disconnect(), temporal.connection.close()]).then(() => process.exit(0));
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, `api failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
