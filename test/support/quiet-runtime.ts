import { DefaultLogger, Runtime } from '@temporalio/worker';

// Workers in tests log only warnings and errors, so a failing test's output is the failure.
Runtime.install({ logger: new DefaultLogger('WARN') });
