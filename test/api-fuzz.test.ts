import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { createApiKey } from '../adapters/identity/api-keys';
import { openApiDocument } from '../api/openapi';
import type { Role } from '../contracts/identity';
import { openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';

// Property-based fuzzing of the whole HTTP API from its own OpenAPI document (schemathesis, PyPI):
// valid and invalid bodies, query strings, headers and path parameters for every operation. The
// check is that nothing answers with a server error: a client's mistake is a 4xx naming the field.

const SCHEMATHESIS_VERSION = '4.32.5'; // as .ci/run installs it
const INSTALL = `python3 -m venv .tools/schemathesis && .tools/schemathesis/bin/pip install schemathesis==${SCHEMATHESIS_VERSION}`;
/** Examples per operation and phase: enough to find the classic 500s, small enough for 2 cores. */
// Bounded so CI stays within minutes on a loaded 2-core machine; QLP_FUZZ_EXAMPLES=300 for a deeper run.
const MAX_EXAMPLES = Number(process.env.QLP_FUZZ_EXAMPLES ?? 50);
/** Fixed, so a failure in CI reproduces; QLP_FUZZ_SEED tries others. */
const SEED = Number(process.env.QLP_FUZZ_SEED ?? 20261130);

function findSchemathesis(): string | undefined {
  const local = join(__dirname, '..', '.tools', 'schemathesis', 'bin', 'schemathesis');
  if (existsSync(local)) return local;
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'schemathesis'))
    .find((candidate) => existsSync(candidate));
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // In `cwd`, so its cache (.schemathesis/) stays out of the repository.
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

let stack: TestStack;
let worker: RunningWorker;
/** Every role but admin: an admin key would be revoked by the fuzzer's own DELETE /keys/{id} mid-run. */
let working: string;
let admin: string;
let reports: string;

beforeAll(async () => {
  // No quotas: the fuzzer submits hundreds of intents, and 429s would hide the routes that act on them.
  stack = await openStack('api-fuzz', (c) => ({
    ...c,
    security: { ...c.security, defaults: { ...c.security.defaults, concurrentIntents: 0, intentsPerDay: 0 } },
  }));
  // A tenant of its own: the fuzzer cancels, decides and revokes whatever ids it finds, and other test
  // files share this database (it once cancelled another file's intent mid-planning).
  const key = async (roles: Role[]) =>
    (await createApiKey(stack.db, { name: `fuzz-${roles.join('-')}`, tenant: 'api-fuzz', roles, createdBy: 'test' }))
      .key;
  working = await key(['submitter', 'approver', 'auditor']);
  admin = await key(['admin']);
  // Fuzzed submissions start real intents; a worker runs them, so decisions and cancellations meet live workflows.
  worker = await startWorker(stack);
  reports = process.env.QLP_FUZZ_REPORT_DIR ?? (await mkdtemp(join(tmpdir(), 'qlp-fuzz-')));
});

afterAll(async () => {
  // Intents the fuzzer submitted are still running: end them, so they leave nothing behind for other tests.
  const running = stack?.temporal.workflow.list({ query: `TaskQueue = "${stack.config.temporal.taskQueue}"` });
  if (running) {
    for await (const execution of running) {
      if (execution.status.name === 'RUNNING') {
        // It may finish between the listing and the terminate: that is the end we wanted.
        await stack.temporal.workflow
          .getHandle(execution.workflowId)
          .terminate('api fuzz test finished')
          .catch((error: unknown) => {
            if (!(error instanceof WorkflowNotFoundError)) throw error;
          });
      }
    }
  }
  await worker?.stop();
  await stack?.close();
  if (reports && !process.env.QLP_FUZZ_REPORT_DIR) await rm(reports, { recursive: true, force: true });
});

test('fuzzing every operation of the OpenAPI document finds no server error (schemathesis)', async () => {
  const schemathesis = findSchemathesis();
  if (!schemathesis) {
    throw new Error(
      `schemathesis is not installed (looked in .tools/schemathesis/bin and on PATH). Install it with: ${INSTALL} (.ci/run does this)`,
    );
  }
  // Two passes: the intents, audit and the rest with a key that has every role but admin; the key
  // routes with an admin key (which the fuzzer may revoke: nothing else runs after it).
  const passes = [
    { name: 'intents', token: working, filter: ['--exclude-path-regex', '^/(keys|webhooks)'] },
    { name: 'admin', token: admin, filter: ['--include-path-regex', '^/(keys|webhooks)'] },
  ];
  let operations = 0;
  let testCases = 0;
  for (const pass of passes) {
    const summary = await fuzz(schemathesis, pass.name, pass.token, pass.filter);
    operations += summary.operations;
    testCases += summary.testCases;
  }
  const documented = Object.values(openApiDocument.paths).reduce((n, methods) => n + Object.keys(methods).length, 0);
  expect(operations).toBe(documented);
  expect(testCases).toBeGreaterThan(200);
}, 900_000); // about a minute on a quiet machine; several beside other test files on 2 cores

/** One schemathesis run over the operations `filter` selects, authenticated with `token`; fails on any 5xx. */
async function fuzz(schemathesis: string, name: string, token: string, filter: string[]) {
  const report = join(reports, `report-${name}.json`);
  const args = [
    'run',
    `${stack.apiUrl}/openapi.json`,
    '--url',
    stack.apiUrl,
    ...filter,
    '--checks',
    'not_a_server_error',
    '--phases',
    process.env.QLP_FUZZ_PHASES ?? 'examples,coverage,fuzzing,stateful',
    '--max-examples',
    String(MAX_EXAMPLES),
    '--seed',
    String(SEED),
    '--workers',
    '1',
    // Generous: a cancel waits for the workflow to take its update, slow beside a CPU hog.
    '--request-timeout',
    '120',
    '--header',
    `Authorization: Bearer ${token}`,
    '--generation-database',
    'none',
    '--no-color',
    '--report',
    'json',
    '--report-json-path',
    report,
  ];
  const started = performance.now();
  const { code, output } = await run(schemathesis, args, reports);
  const seconds = Math.round((performance.now() - started) / 1000);
  const summary = await readSummary(report).catch((error: unknown) => {
    console.log(output);
    throw new Error(`schemathesis exited ${code} without its JSON report: ${(error as Error).message}`);
  });
  console.log(
    `schemathesis ${SCHEMATHESIS_VERSION} ${name} pass (seed ${SEED}, up to ${MAX_EXAMPLES} examples per operation and phase): ` +
      `${summary.operations} operations tested, ${summary.testCases} test cases, ` +
      `${summary.failures} unique failures in ${seconds} s`,
  );
  if (code !== 0 || summary.failures > 0) console.log(output);
  expect({ pass: name, exitCode: code, failures: summary.failures }).toEqual({ pass: name, exitCode: 0, failures: 0 });
  return summary;
}

/** Numbers from schemathesis's JSON run report (`--report json`). */
async function readSummary(path: string): Promise<{ operations: number; testCases: number; failures: number }> {
  const report = JSON.parse(await readFile(path, 'utf8')) as {
    operations: { tested: number };
    test_cases: { generated: number; unique_failures: number };
  };
  return {
    operations: report.operations.tested,
    testCases: report.test_cases.generated,
    failures: report.test_cases.unique_failures,
  };
}
