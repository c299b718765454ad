/**
 * The whole platform on embedded defaults, end to end: services up, worker and API started in the
 * background, then a sample intent driven through the `qlp` CLI exactly as a user would.
 *   scripts/demo            (installs npm dependencies first)
 *   npx tsx scripts/demo.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createDatabase } from '../adapters/db/client';
import { prepareDatabase } from '../adapters/db/migrate';
import { createApiKey, verifyApiKey } from '../adapters/identity/api-keys';
import { workflowUiUrl } from '../adapters/temporal/client';
import { loadConfigOrExit, type Config } from '../config';
import type { VerificationResult } from '../contracts/capsule';
import type { Role } from '../contracts/identity';
import type { IntentView } from '../contracts/views';
import { startServices } from './services';
import { findRunning, spawnDetached, tailOfLog } from './services/process';
import { waitUntil } from './services/wait';

const root = resolve(__dirname, '..');
const qlpBin = join(root, 'bin', 'qlp');
const SAMPLE_INTENT = 'Build a TypeScript module that tracks library book loans';

const step = (text: string) => console.log(`\n▶ ${text}`);

/** Starts a platform process (worker or API) in the background unless it already runs. */
function ensureProcess(config: Config, name: string, entry: string): string {
  const running = findRunning(config.dataDir, name);
  if (running) return `${name}: already running (pid ${running.pid})`;
  const started = spawnDetached({
    name,
    command: process.execPath,
    args: ['--import', join(root, 'node_modules/tsx/dist/loader.mjs'), join(root, entry)],
    dataDir: config.dataDir,
  });
  return `${name}: started (pid ${started.pid}, log ${relative(process.cwd(), started.logFile)})`;
}

/**
 * The demo's two people: a submitter and an approver (the gate refuses self-approval). Their keys are
 * created once, as `npm run key:create` does, and kept in the data directory (mode 600).
 */
async function demoKeys(config: Config): Promise<{ submitter: string; approver: string }> {
  const db = createDatabase(config.databaseUrl, { maxConnections: 1 });
  try {
    const key = async (file: string, name: string, roles: Role[]) => {
      const path = join(config.dataDir, file);
      if (existsSync(path)) {
        const saved = readFileSync(path, 'utf8').trim();
        if (
          await verifyApiKey(db, saved).then(
            () => true,
            () => false,
          )
        )
          return saved;
      }
      const created = await createApiKey(db, { name, tenant: 'default', roles, createdBy: 'scripts/demo' });
      writeFileSync(path, `${created.key}\n`, { mode: 0o600 });
      return created.key;
    };
    return {
      submitter: await key('demo-submitter.key', 'demo-submitter', ['submitter', 'auditor']),
      approver: await key('demo-approver.key', 'demo@quantumlayer.local', ['approver']),
    };
  } finally {
    await db.$disconnect();
  }
}

/** Runs `qlp …` like a user at a terminal (with that user's key), showing the command; returns its JSON output. */
function qlp<T>(config: Config, token: string, args: string[]): T {
  console.log(`  $ qlp ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const result = spawnSync(qlpBin, ['--json', ...args], {
    encoding: 'utf8',
    env: { ...process.env, QLP_API_URL: config.api.publicUrl, QLP_TOKEN: token },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`qlp ${args[0]} exited with ${result.status}: ${result.stdout}`);
  return JSON.parse(result.stdout) as T;
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const began = performance.now();

  step('Services: Temporal dev server, SeaweedFS (S3), PostgreSQL');
  const services = await startServices(config, {
    prepareDatabase,
    embeddedPostgres: true, // without a PostgreSQL at DATABASE_URL, a project-local one (docs/deployment.md)
    log: (line) => console.log(`  ${line}`),
  });
  console.log(`  Temporal ${services.temporal.address}, S3 ${services.s3.endpoint}, database ${services.database.url}`);

  step('Platform: worker and REST API');
  console.log(`  ${ensureProcess(config, 'worker', 'workers/main.ts')}`);
  console.log(`  ${ensureProcess(config, 'api', 'api/server.ts')}`);
  const apiLog = join(config.dataDir, 'logs', 'api.log');
  await waitUntil(
    async () => {
      const response = await fetch(`${config.api.publicUrl}/api/v1/health`);
      if (!response.ok) throw new Error(`health answered ${response.status}: ${await response.text()}`);
    },
    {
      timeoutMs: 60_000,
      abortReason: () => (findRunning(config.dataDir, 'api') ? undefined : `the API exited:\n${tailOfLog(apiLog)}`),
    },
  ).catch((error: Error) => {
    throw new Error(`the API at ${config.api.publicUrl} is not healthy: ${error.message}`);
  });

  const keys = await demoKeys(config);
  step('Submit a sample intent (as demo-submitter) and wait for the human gate');
  const submitted = qlp<IntentView>(config, keys.submitter, ['submit', SAMPLE_INTENT, '--wait']);
  console.log(`  intent ${submitted.id}: ${submitted.status}`);
  console.log(`  Temporal Web UI: ${workflowUiUrl(config, submitted.workflowId)}`);
  if (submitted.status !== 'AWAITING_APPROVAL') throw new Error(`expected AWAITING_APPROVAL, got ${submitted.status}`);
  console.log(`  validation: type-check ${submitted.validation?.typecheck.status}`);

  console.log(`  review digest: ${submitted.gate?.digest}`);

  step('Approve it, as an ops engineer (demo@quantumlayer.local, another key) would');
  qlp<unknown>(config, keys.approver, [
    'approve',
    submitted.id,
    '--digest',
    submitted.gate?.digest ?? '',
    '--reason',
    'approved by scripts/demo',
  ]);
  const completed = qlp<IntentView>(config, keys.submitter, ['watch', submitted.id]);
  if (completed.status !== 'COMPLETED') throw new Error(`expected COMPLETED, got ${completed.status}`);

  step('Download the capsule and verify its checksum');
  const capsuleDir = join(config.dataDir, 'capsules');
  mkdirSync(capsuleDir, { recursive: true });
  const downloaded = qlp<{ path: string; sha256: string }>(config, keys.submitter, [
    'download',
    submitted.id,
    '-o',
    capsuleDir,
  ]);

  step('Verify it offline: signatures, digests, provenance and approval, with the public keys saved once');
  const keysFile = join(config.dataDir, 'signing-keys.json');
  const served = await fetch(`${config.api.publicUrl}/api/v1/signing-keys`, {
    headers: { authorization: `Bearer ${keys.submitter}` },
  });
  if (!served.ok) throw new Error(`GET /signing-keys answered ${served.status}`);
  writeFileSync(keysFile, await served.text());
  const verified = qlp<VerificationResult>(config, keys.submitter, ['verify', downloaded.path, '--keys', keysFile]);
  for (const check of verified.checks) console.log(`  ${check.ok ? '✓' : '✗'} ${check.check}: ${check.detail}`);
  console.log(`  ${verified.status}: signed by ${verified.signedBy.join(', ')}`);

  const seconds = ((performance.now() - began) / 1000).toFixed(1);
  console.log(`
✔ Done in ${seconds} s: intent ${submitted.id} is COMPLETED.
  Temporal Web UI:  ${workflowUiUrl(config, submitted.workflowId)}
  All intents:      ${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows
  Capsule in S3:    ${completed.capsule?.location}
  Capsule on disk:  ${relative(process.cwd(), downloaded.path)} (sha256 ${downloaded.sha256}, verified)
  Verify it again:  bin/qlp verify ${relative(process.cwd(), downloaded.path)} --keys ${relative(process.cwd(), keysFile)}
  API:              ${config.api.publicUrl}/api/v1/intents/${submitted.id}
  Demo keys:        ${relative(process.cwd(), config.dataDir)}/demo-*.key (export QLP_TOKEN=$(cat …) to use qlp as them)
Your own admin key: npm run key:create -- --tenant default --roles admin --name you
Everything keeps running for you to explore; stop it with: npm run down`);
}

main().catch((error: unknown) => {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
