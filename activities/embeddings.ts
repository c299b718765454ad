import { ApplicationFailure } from '@temporalio/activity';
import {
  countMissingEmbedding,
  intentsMissingEmbedding,
  nearestIntents,
  recordSimilarIntents,
  storeEmbedding,
} from '../adapters/db/embeddings';
import type { Database } from '../adapters/db/client';
import { approversOf } from '../adapters/db/similar';
import type { LlmConfig } from '../adapters/llm';
import type { EmbeddingConfig } from '../adapters/llm/embedding-config';
import { Embedder } from '../adapters/llm/embeddings';
import { mergeTaskOutputs, storeTaskFiles } from '../adapters/storage/artifacts';
import type { ObjectStore } from '../adapters/storage/s3';
import type { ArtifactRef } from '../contracts/artifacts';
import { IntentId } from '../contracts/intent';
import type {
  EmbeddingInfo,
  FindSimilarInput,
  ReuseArtifactsInput,
  SimilarIntentsResult,
  SimilarMatch,
} from '../contracts/similar';
import type { ValidationSummary } from '../contracts/validation';
import type { ReembedPage, ReembedPageInput } from '../contracts/reembed';
import { checkedInput, failingArtifacts } from './failures';
import { heartbeating } from './heartbeat';
import { toApplicationFailure } from './llm-failures';

export function embeddingInfo(config: EmbeddingConfig, dimension: number): EmbeddingInfo {
  return { model: config.model, dimension, offline: config.offline, kind: config.offline ? 'local' : 'provider' };
}

export interface EmbeddingActivityDependencies {
  db: Database;
  store: ObjectStore;
  llm: LlmConfig;
  embeddings: EmbeddingConfig;
}

/** Similar intents and re-embedding (docs/similar-intents.md). */
export function createEmbeddingActivities({ db, store, llm, embeddings }: EmbeddingActivityDependencies) {
  const embedder = new Embedder(db, llm, embeddings);
  const { similarity } = embeddings;
  const embed = async (intentId: string, texts: string[], purpose: string, budget = llm.budget) => {
    try {
      return await embedder.embed({ intentId, texts, purpose, budget });
    } catch (error) {
      throw toApplicationFailure(error);
    }
  };

  return {
    /**
     * Embeds the intent's text, stores the vector, and records (in the read model) the earlier intents of the
     * same tenant at or above the similarity threshold, most similar first, with their status, capsule,
     * approvers and overall score. Idempotent: a retry stores the same vector and the same rows.
     */
    findSimilarIntents: heartbeating(async (input: FindSimilarInput): Promise<SimilarIntentsResult> => {
      const intentId = checkedInput(IntentId, input.intentId, 'intentId');
      const { vectors, dimension } = await embed(intentId, [input.text], 'embed:similar', input.budget);
      const vector = vectors[0]!;
      await storeEmbedding(db, { intentId, tenant: input.tenant, model: embeddings.model, vector });
      const near = await nearestIntents(db, {
        tenant: input.tenant,
        model: embeddings.model,
        vector,
        limit: similarity.limit,
        excludeIntentId: intentId,
      });
      const above = near.filter((n) => n.similarity >= similarity.threshold);
      await recordSimilarIntents(db, intentId, embeddings.model, above);
      const rows = await db.intent.findMany({
        where: { id: { in: above.map((n) => n.intentId) }, tenant: input.tenant },
        select: {
          id: true,
          status: true,
          gate: true,
          validation: true,
          capsules: { orderBy: { version: 'desc' }, take: 1, select: { id: true } },
        },
      });
      const matches: SimilarMatch[] = above.flatMap((n) => {
        const row = rows.find((r) => r.id === n.intentId);
        if (!row) return [];
        const overall = (row.validation as ValidationSummary | null)?.score?.scores.overall ?? null;
        return [
          {
            intentId: row.id,
            similarity: n.similarity,
            status: row.status,
            capsuleId: row.capsules[0]?.id ?? null,
            approvers: approversOf(row.gate),
            overall,
          },
        ];
      });
      const reusable = matches.find(
        (m) => m.status === 'COMPLETED' && m.capsuleId !== null && m.similarity >= similarity.reuseThreshold,
      );
      return {
        embedding: embeddingInfo(embeddings, dimension),
        threshold: similarity.threshold,
        matches,
        ...(reusable && { reusable }),
      };
    }),

    /**
     * One page of a re-embed: intents after the cursor (id order) that have no vector of the configured model.
     * Refuses (for good) a page for another model: the worker's configuration changed under the workflow.
     */
    reembedPage: heartbeating(async (input: ReembedPageInput): Promise<ReembedPage> => {
      if (input.model !== embeddings.model) {
        throw ApplicationFailure.nonRetryable(
          `this worker embeds with ${embeddings.model}, not ${input.model}: the configuration changed; a new re-embed starts at worker start`,
          'EmbeddingModelChanged',
        );
      }
      const page = await intentsMissingEmbedding(db, input.model, input.after, input.pageSize);
      if (page.length) {
        const { vectors } = await embed(
          page[0]!.id,
          page.map((row) => row.text),
          'embed:reembed',
        );
        for (const [i, row] of page.entries()) {
          await storeEmbedding(db, { intentId: row.id, tenant: row.tenant, model: input.model, vector: vectors[i]! });
        }
      }
      const remaining = await countMissingEmbedding(db, input.model);
      return {
        embedded: page.length,
        nextCursor: page.at(-1)?.id ?? input.after,
        done: page.length < input.pageSize,
        remaining,
      };
    }),

    /**
     * The approved files of a completed intent, copied into this intent's artifact layout (one artifact per
     * task of the source, same task ids), checked against their checksums: what `reuse: true` starts from.
     */
    reuseArtifacts: failingArtifacts(
      heartbeating(async (input: ReuseArtifactsInput): Promise<ArtifactRef[]> => {
        const intentId = checkedInput(IntentId, input.intentId, 'intentId');
        const sourceId = checkedInput(IntentId, input.sourceIntentId, 'sourceIntentId');
        const [target, source] = await Promise.all([
          db.intent.findUnique({ where: { id: intentId }, select: { tenant: true } }),
          db.intent.findUnique({
            where: { id: sourceId },
            select: {
              tenant: true,
              status: true,
              tasks: { orderBy: { taskId: 'asc' } },
              capsules: { orderBy: { version: 'desc' }, take: 1, select: { id: true } },
            },
          }),
        ]);
        if (!target || !source || source.tenant !== target.tenant) {
          throw ApplicationFailure.nonRetryable(`intent ${sourceId} is not an intent of this tenant`, 'ReuseRefused');
        }
        if (source.status !== 'COMPLETED' || source.capsules.length === 0) {
          throw ApplicationFailure.nonRetryable(`intent ${sourceId} has no approved capsule`, 'ReuseRefused');
        }
        const refs: ArtifactRef[] = [];
        for (const task of source.tasks) {
          if (!task.artifactKey) continue;
          const original = {
            taskId: task.taskId,
            manifestKey: task.artifactKey,
            fileCount: task.fileCount ?? 0,
            bytes: 0,
          };
          const { files } = await mergeTaskOutputs(store, [original]);
          const copied = await storeTaskFiles(
            store,
            intentId,
            task.taskId,
            files.map((file) => ({ path: file.path, content: file.content.toString('utf8') })),
          );
          refs.push({ ...copied, generator: `reused from intent ${sourceId} (capsule ${source.capsules[0]!.id})` });
        }
        return refs;
      }),
    ),
  };
}
