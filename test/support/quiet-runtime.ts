import { Runtime } from '@temporalio/worker';
import { temporalLogger } from '../../adapters/telemetry/logger-temporal';

// Workers in tests log only warnings and errors (LOG_LEVEL=warn, test-env.ts), so a failing test's output is
// the failure; through the product's logger, as the worker process does, so a test may capture it.
Runtime.install({ logger: temporalLogger() });
