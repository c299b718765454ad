import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createDatabase, type Database } from '../../adapters/db/client';
import { SandboxSelector } from '../../adapters/sandbox';
import { ObjectStore } from '../../adapters/storage/s3';
import { createApiKey } from '../../adapters/identity/api-keys';
import { temporalDataConverter } from '../../adapters/temporal/codec-data-converter';
import { tracingClientInterceptors, workflowInterceptorModules } from '../../adapters/telemetry/tracing-temporal';
import { createApp } from '../../api/app';
import { apiDependencies } from '../../api/dependencies';
import { listen } from '../../api/listen';
import { loadConfig, type Config } from '../../config';
import type { Role } from '../../contracts/identity';
import { setDefaultToken } from './api';
import { loadLocalSigner } from '../../adapters/signing/local-key';
import { createWorker, type CreateWorkerOptions, type QlpWorker } from '../../workers/create-worker';

/** How long a test waits for something that will happen: generous, since a loaded 2-core machine is slow. */
export const PATIENCE_MS = 300_000;

/** What one test file uses: the shared real services, with a task queue of its own. */
export interface TestStack {
  config: Config;
  db: Database;
  store: ObjectStore;
  temporal: Client;
  apiUrl: string;
  /** API keys of tenant `default`: one per role (the submitter may also audit). `call` sends `submitter` by default. */
  keys: StackKeys;
  close(): Promise<void>;
}

export interface StackKeys {
  submitter: string;
  approver: string;
  /** A second approver, for policies that need two. */
  approver2: string;
  auditor: string;
  admin: string;
}

export async function openStack(name: string, configure: (config: Config) => Config = (c) => c): Promise<TestStack> {
  const base = loadConfig();
  const config = configure({ ...base, temporal: { ...base.temporal, taskQueue: `test-${name}-${randomUUID()}` } });
  const db = createDatabase(config.databaseUrl, { maxConnections: 5 });
  const store = new ObjectStore(config.s3);
  const connection = await Connection.connect({ address: config.temporal.address });
  const dataConverter = temporalDataConverter(config.codec.encryption);
  // As the API process does: the request's trace continues into the workflows it starts.
  const interceptors = { workflow: tracingClientInterceptors() };
  const temporal = new Client({ connection, namespace: config.temporal.namespace, dataConverter, interceptors });
  const server = await listen(createApp(apiDependencies({ config, db, temporal, store })), 0, '127.0.0.1');
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  const keys = await createStackKeys(db, name);
  setDefaultToken(keys.submitter);
  return {
    config,
    db,
    store,
    temporal,
    apiUrl,
    keys,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await db.$disconnect();
      await connection.close();
    },
  };
}

/** Real API keys, created as the bootstrap command does, for each role in tenant `default`. */
export async function createStackKeys(db: Database, name: string, tenant = 'default'): Promise<StackKeys> {
  const key = async (label: string, roles: Role[]) =>
    (await createApiKey(db, { name: `${name}-${label}`, tenant, roles, createdBy: 'test' })).key;
  return {
    submitter: await key('submitter', ['submitter', 'auditor']),
    approver: await key('approver', ['approver']),
    approver2: await key('approver-2', ['approver']),
    auditor: await key('auditor', ['auditor']),
    admin: await key('admin', ['admin']),
  };
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles workflows/ once per test file; each worker reuses it. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    // As a worker bundling for itself: tracing and log-context interceptors (adapters/telemetry).
    workflowInterceptorModules: [...workflowInterceptorModules],
    logger: quietLogger,
  });
  return bundle;
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };

export interface RunningWorker {
  worker: QlpWorker;
  stop(): Promise<void>;
}

/**
 * Starts a real worker for the stack's task queue, running in the background until stop(). LLM and
 * sandbox settings are the stack's config unless given; the sandbox is chosen on first use.
 */
export async function startWorker(
  stack: TestStack,
  options: Partial<
    Pick<
      CreateWorkerOptions,
      | 'wrapActivities'
      | 'shutdownGraceTime'
      | 'planner'
      | 'llm'
      | 'sandbox'
      | 'roles'
      | 'validationThreads'
      | 'signer'
      | 'workflowBundle'
      | 'embeddings'
    >
  > = {},
): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: stack.config.temporal.address });
  const worker = await createWorker({
    connection,
    namespace: stack.config.temporal.namespace,
    taskQueue: stack.config.temporal.taskQueue,
    db: stack.db,
    store: stack.store,
    workflowBundle: options.workflowBundle ?? (await workflowBundle()),
    // As the worker process does: payloads encrypted when the stack's config has keys.
    dataConverter: temporalDataConverter(stack.config.codec.encryption),
    ...options,
    llm: options.llm ?? stack.config.llm,
    webhooks: stack.config.webhooks,
    sandbox: options.sandbox ?? new SandboxSelector(stack.config.sandbox),
    // As the worker process does: the key in the data dir, created on first use (shared by the run's files).
    signer: options.signer ?? loadLocalSigner(stack.config.security.capsuleKeys.dir, 'development'),
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

/**
 * Polls until check() returns a value (not undefined), or fails with the last value seen. The window is
 * for a stuck intent, not a slow machine: work that takes longer under load (CI beside a CPU hog) still
 * arrives well inside it.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = PATIENCE_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const namedKeys = new Map<string, string>();

/** An approver key of tenant `default` whose name (what records show as the approver) is `name`; one per name. */
export async function approverKey(stack: TestStack, name: string, roles: Role[] = ['approver']): Promise<string> {
  const id = `${name}|${roles.join(',')}`;
  let key = namedKeys.get(id);
  if (!key) {
    key = (await createApiKey(stack.db, { name, tenant: 'default', roles, createdBy: 'test' })).key;
    namedKeys.set(id, key);
  }
  return key;
}
