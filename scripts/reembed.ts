/**
 * Re-embeds the stored intents with the configured embedding model (EMBEDDING_PROVIDER / EMBEDDING_MODEL) in
 * the background workflow `reembed-<model>`; a worker must be running. The worker starts it by itself when the
 * model changed; this also embeds intents that never had a vector (--force) and can wait for the end (--wait).
 *   npx tsx scripts/reembed.ts [--force] [--wait]
 */
import { createDatabase } from '../adapters/db/client';
import { createTemporalClient } from '../adapters/temporal/client';
import { loadConfigOrExit } from '../config';
import type { ReembedProgress } from '../contracts/reembed';
import { startReembedIfNeeded } from '../workers/reembed-start';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const force = process.argv.includes('--force');
  const db = createDatabase(config.databaseUrl, { maxConnections: 2 });
  const client = await createTemporalClient(config);
  try {
    const model = config.embeddings.model;
    const result = await startReembedIfNeeded(client, db, { taskQueue: config.temporal.taskQueue, model, force });
    const stored = result.stored.map((row) => `${row.model}: ${row.count}`).join(', ') || 'none';
    if (!result.started) {
      console.log(
        `Nothing to do: ${result.missing} intent(s) without a ${model} vector (stored: ${stored})` +
          (result.missing ? '; --force embeds them' : ''),
      );
      return;
    }
    console.log(
      `Re-embedding ${result.missing} intent(s) with ${model} in workflow ${result.workflowId} (stored: ${stored})`,
    );
    if (process.argv.includes('--wait')) {
      const progress = (await client.workflow.getHandle(result.workflowId).result()) as ReembedProgress;
      console.log(`Done: ${progress.embedded} vector(s) in ${progress.pages} page(s), ${progress.remaining} left`);
    }
  } finally {
    await db.$disconnect();
    await client.connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(`reembed failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
