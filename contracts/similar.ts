import { z } from 'zod';
import type { Budget } from './budget';
import { IntentStatus } from './intent';
import { Scores } from './validation';

// Similar intents (docs/similar-intents.md): what the API, the CLI, the workflow and the QuantumDrop share.

/** How the vectors were made: `offline: true` is the local hashed n-gram embedding (no model read the text). */
export const EmbeddingInfo = z.object({
  model: z.string().describe('e.g. local-ngram-v1, or the provider model such as text-embedding-3-small'),
  dimension: z.number().int(),
  offline: z.boolean().describe('true: the local, deterministic hashed n-gram embedding ("local"), not a model'),
  kind: z.enum(['local', 'provider']),
});
export type EmbeddingInfo = z.infer<typeof EmbeddingInfo>;

/** One earlier intent of the same tenant, with what a reviewer wants to know about it now. */
export const SimilarIntentView = z.object({
  intentId: z.uuid(),
  text: z.string(),
  /** Cosine similarity of the two texts' embeddings, 0–1. */
  similarity: z.number(),
  status: IntentStatus,
  createdAt: z.iso.datetime(),
  scores: Scores.nullable().describe('its validation scores, null when it was never scored'),
  verdict: z.string().nullable(),
  capsule: z.object({ id: z.uuid(), version: z.number().int() }).nullable(),
  approvers: z.array(z.string()).describe('who approved it (names), empty when nobody has'),
  links: z.object({ self: z.string(), capsule: z.string().optional() }),
});
export type SimilarIntentView = z.infer<typeof SimilarIntentView>;

export const SimilarIntentsView = z.object({
  intentId: z.uuid(),
  /** null until the intent has been embedded (intents submitted before similar intents existed stay so). */
  embedding: EmbeddingInfo.nullable(),
  threshold: z.number().nullable(),
  similar: z.array(SimilarIntentView),
});
export type SimilarIntentsView = z.infer<typeof SimilarIntentsView>;

/** The `findSimilarIntents` activity's answer, as the workflow keeps it (small: ids and numbers). */
export interface SimilarMatch {
  intentId: string;
  similarity: number;
  status: IntentStatus;
  capsuleId: string | null;
  approvers: string[];
  overall: number | null;
}

export interface SimilarIntentsResult {
  embedding: EmbeddingInfo;
  threshold: number;
  matches: SimilarMatch[];
  /** The most similar completed intent with a capsule at or above the reuse threshold, if any. */
  reusable?: SimilarMatch;
}

export interface FindSimilarInput {
  intentId: string;
  tenant: string;
  text: string;
  /** The intent's LLM budget (a provider's embedding is charged to it); the worker's default when absent. */
  budget?: Budget;
}

export interface ReuseArtifactsInput {
  intentId: string;
  sourceIntentId: string;
}
