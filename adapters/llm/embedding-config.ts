import { z } from 'zod';
import type { Section } from '../../config/setting';
import type { LlmConfig, ProviderConfig } from './config';
import { LOCAL_EMBEDDING_DIMENSION, LOCAL_EMBEDDING_MODEL } from './local-embedding';

/**
 * Embeddings and similar intents (docs/similar-intents.md). config/index.ts spreads `embeddingEnvShape` into
 * its schema and calls `toEmbeddingConfig` with the parsed LLM config (a provider embeds with that provider's
 * endpoint, key and limits).
 */

const section: Section = { title: 'Embeddings and similar intents (docs/similar-intents.md)' };

export const embeddingProviders = ['local', 'openai', 'azure', 'compatible'] as const;
export type EmbeddingProviderName = (typeof embeddingProviders)[number];

const score = z.coerce.number().min(0).max(1);

export const embeddingEnvShape = {
  EMBEDDING_PROVIDER: z
    .enum(embeddingProviders)
    .prefault('local')
    .meta({
      section,
      doc: [
        'Who embeds intent texts: local (offline, deterministic hashed n-grams, labelled offline) or one of the',
        'LLM_PROVIDERS (its embeddings endpoint, key, limits, cache and ledger). A change of model re-embeds in the background.',
      ],
    }),
  EMBEDDING_MODEL: z.string().min(1).prefault('text-embedding-3-small').meta({
    section,
    doc: "The provider's embedding model (Azure: the embedding deployment's name). Ignored for local.",
  }),
  EMBEDDING_DIMENSIONS: z.coerce.number().int().min(1).max(2000).optional().meta({
    section,
    doc: "Ask the provider for vectors of this size (text-embedding-3 models shorten); unset: the model's own (≤ 2000 for HNSW).",
  }),
  SIMILAR_INTENT_THRESHOLD: score.prefault('0.8').meta({
    section,
    doc: 'Earlier intents of the same tenant with cosine similarity at least this are attached to a new intent.',
  }),
  SIMILAR_INTENT_REUSE_THRESHOLD: score.prefault('0.97').meta({
    section,
    doc: 'A submission with "reuse": true starts from the most similar completed intent\'s capsule files at or above this.',
  }),
  SIMILAR_INTENT_LIMIT: z.coerce.number().int().min(1).max(50).prefault('5').meta({
    section,
    doc: 'Most similar intents attached to one intent.',
  }),
};

type EmbeddingEnv = z.output<z.ZodObject<typeof embeddingEnvShape>>;

export interface EmbeddingConfig {
  /** undefined: the local, offline embedding. */
  provider?: ProviderConfig;
  /** The model recorded with every vector: `local-ngram-v1`, or the provider's model (plus `@<dimensions>` when set). */
  model: string;
  /** Fixed for local; for a provider, EMBEDDING_DIMENSIONS or learnt from its first answer. */
  dimensions?: number;
  offline: boolean;
  similarity: { threshold: number; reuseThreshold: number; limit: number };
}

export type EmbeddingConfigResult = { config: EmbeddingConfig } | { issues: { variable: string; reason: string }[] };

export function toEmbeddingConfig(env: EmbeddingEnv, llm: LlmConfig): EmbeddingConfigResult {
  const similarity = {
    threshold: env.SIMILAR_INTENT_THRESHOLD,
    reuseThreshold: env.SIMILAR_INTENT_REUSE_THRESHOLD,
    limit: env.SIMILAR_INTENT_LIMIT,
  };
  if (env.EMBEDDING_PROVIDER === 'local') return { config: localEmbeddingConfig(similarity) };
  const provider = llm.providers.find((p) => p.name === env.EMBEDDING_PROVIDER);
  if (!provider) {
    return {
      issues: [
        {
          variable: 'EMBEDDING_PROVIDER',
          reason: `is ${env.EMBEDDING_PROVIDER}, which LLM_PROVIDERS does not configure (add it there, or use local)`,
        },
      ],
    };
  }
  const dims = env.EMBEDDING_DIMENSIONS;
  return {
    config: {
      // The embedding model takes the chat model's place; Azure addresses it by its own deployment.
      provider: {
        ...provider,
        model: env.EMBEDDING_MODEL,
        ...(provider.name === 'azure' && { deployment: env.EMBEDDING_MODEL }),
      },
      model: dims ? `${env.EMBEDDING_MODEL}@${dims}` : env.EMBEDDING_MODEL,
      dimensions: dims,
      offline: false,
      similarity,
    },
  };
}

export const DEFAULT_SIMILARITY = { threshold: 0.8, reuseThreshold: 0.97, limit: 5 };

/** The offline embedding (the default, and what tests and tools use without a provider). */
export function localEmbeddingConfig(similarity = DEFAULT_SIMILARITY): EmbeddingConfig {
  return { model: LOCAL_EMBEDDING_MODEL, dimensions: LOCAL_EMBEDDING_DIMENSION, offline: true, similarity };
}
