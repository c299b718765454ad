import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { countMissingEmbedding, embeddingModels } from '../adapters/db/embeddings';
import type { Database } from '../adapters/db/client';
import { createTemporalClient } from '../adapters/temporal/client';
import type { Config } from '../config';
import { reembedWorkflowId, type ReembedInput } from '../contracts/reembed';
import type { reembedWorkflow } from '../workflows/reembed';

export interface ReembedStart {
  started: boolean;
  workflowId: string;
  /** Intents without a vector of the model when it was checked. */
  missing: number;
  /** Models that vectors are stored for, with their counts. */
  stored: { model: string; count: number }[];
}

/**
 * Starts the background re-embed (workflows/reembed.ts) when vectors of another model are stored and some
 * intents have none of `model`, i.e. the configured embedding model changed; `force` starts it whenever an
 * intent has no vector of `model` (scripts/reembed.ts). A re-embed already running for the model is joined.
 */
export async function startReembedIfNeeded(
  client: Client,
  db: Database,
  options: { taskQueue: string; model: string; force?: boolean; pageSize?: number; pagesPerRun?: number },
): Promise<ReembedStart> {
  const workflowId = reembedWorkflowId(options.model);
  const [stored, missing] = await Promise.all([embeddingModels(db), countMissingEmbedding(db, options.model)]);
  const changed = stored.some((row) => row.model !== options.model && row.count > 0);
  if (missing === 0 || (!changed && !options.force)) return { started: false, workflowId, missing, stored };
  const input: ReembedInput = {
    model: options.model,
    pageSize: options.pageSize ?? 100,
    pagesPerRun: options.pagesPerRun ?? 50,
  };
  await client.workflow.start<typeof reembedWorkflow>('reembedWorkflow', {
    taskQueue: options.taskQueue,
    workflowId,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    staticSummary: `Re-embed intents with ${options.model}`,
  });
  return { started: true, workflowId, missing, stored };
}

/**
 * At worker start (orchestration role): starts the re-embed when the configured embedding model changed, and
 * says so; never stops the worker (a failure is logged, and the next start tries again).
 */
export function reembedOnModelChange(config: Config, db: Database): void {
  void (async () => {
    const client = await createTemporalClient(config);
    try {
      const result = await startReembedIfNeeded(client, db, {
        taskQueue: config.temporal.taskQueue,
        model: config.embeddings.model,
      });
      if (result.started) {
        console.log(
          `worker: embedding model is ${config.embeddings.model}; re-embedding ${result.missing} intent(s) in the background (workflow ${result.workflowId})`,
        );
      }
    } finally {
      await client.connection.close();
    }
  })().catch((error: unknown) => {
    console.warn(`worker: could not check for a re-embed: ${error instanceof Error ? error.message : String(error)}`);
  });
}
