import type { Budget } from '../../contracts/budget';
import { type LlmUsage, NO_USAGE, OFFLINE_USAGE } from '../../contracts/usage';
import type { Database } from '../db/client';
import { cacheKey, ResponseCache } from './cache';
import type { LlmConfig } from './config';
import type { EmbeddingConfig } from './embedding-config';
import { classify, LlmFailure } from './errors';
import { SpendLedger } from './ledger';
import { localEmbedding, normalise } from './local-embedding';
import { costOf, loadPrices, type Prices } from './pricing';
import { createProvider, type Provider } from './providers';

export interface EmbedRequest {
  /** The intent charged in the ledger (and whose budget applies). */
  intentId: string;
  texts: string[];
  /** In the ledger: `embed:similar`, `embed:reembed`. */
  purpose: string;
  budget: Budget;
  signal?: AbortSignal;
}

export interface Embeddings {
  model: string;
  dimension: number;
  /** True for the local hashed n-gram embedding: no model understood the text. */
  offline: boolean;
  /** One unit-length vector per text, in order. */
  vectors: number[][];
  usage: LlmUsage;
}

// Rough tokens for the reservation, as the chat gateway estimates them.
const estimateTokens = (text: string) => Math.ceil(text.length / 3);

/**
 * Embeds texts: locally (deterministic, offline), or through the configured provider's embeddings endpoint
 * with the same rules as every other LLM call: the response cache (per text), the spend ledger with the
 * intent's budget reserved before the call, the provider's concurrency and rate limits, classified failures
 * for Temporal's retries. One provider only: vectors of different models cannot be compared.
 */
export class Embedder {
  private readonly provider?: Provider;
  private readonly cache: ResponseCache;
  private readonly ledger: SpendLedger;
  private readonly prices: Prices;

  constructor(
    db: Database,
    llm: LlmConfig,
    readonly config: EmbeddingConfig,
  ) {
    this.provider = config.provider && createProvider(config.provider, llm);
    this.cache = new ResponseCache(db, llm.cache);
    this.ledger = new SpendLedger(db);
    this.prices = loadPrices(llm.pricesFile);
  }

  get model(): string {
    return this.config.model;
  }

  async embed(request: EmbedRequest): Promise<Embeddings> {
    const { config } = this;
    if (!this.provider) {
      const vectors = request.texts.map((text) => localEmbedding(text, config.dimensions));
      return { model: config.model, dimension: config.dimensions!, offline: true, vectors, usage: OFFLINE_USAGE };
    }
    const keys = request.texts.map((text) => this.keyOf(text));
    const vectors: (number[] | undefined)[] = await Promise.all(keys.map((key) => this.cached(key)));
    const missing = request.texts.map((text, i) => ({ text, i })).filter(({ i }) => !vectors[i]);
    const hits = keys.length - missing.length;
    let usage: LlmUsage = { ...NO_USAGE, calls: hits ? 1 : 0, cachedCalls: hits ? 1 : 0 };
    // Cache hits are in the ledger as the chat gateway records them: a call that cost nothing.
    if (hits) await this.ledger.recordCacheHit(this.identity(request));
    if (missing.length) {
      const fresh = await this.call(
        request,
        missing.map((m) => m.text),
      );
      usage = { ...fresh.usage, calls: usage.calls + 1, cachedCalls: usage.cachedCalls };
      for (const [j, { i }] of missing.entries()) {
        vectors[i] = fresh.vectors[j]!;
        await this.cache.store(keys[i]!, config.model, JSON.stringify(vectors[i]), { prompt: 0, completion: 0 });
      }
    }
    usage.cached = missing.length === 0 && keys.length > 0;
    const dimension = vectors[0]?.length ?? config.dimensions ?? 0;
    if (vectors.some((v) => v!.length !== dimension)) {
      throw new LlmFailure(
        'LlmInvalidOutput',
        false,
        `embedding model ${config.model} returned vectors of different sizes`,
      );
    }
    return { model: config.model, dimension, offline: false, vectors: vectors as number[][], usage };
  }

  private identity(request: EmbedRequest) {
    const { config } = this.provider!;
    return { intentId: request.intentId, purpose: request.purpose, provider: config.name, model: config.model };
  }

  private keyOf(text: string): string {
    return cacheKey({
      model: this.config.model,
      messages: [{ role: 'user', content: text }],
      parameters: { dimensions: this.config.dimensions ?? null },
      schemaName: 'embedding',
      schema: null,
    });
  }

  private async cached(key: string): Promise<number[] | undefined> {
    const hit = await this.cache.find([key]);
    if (!hit) return undefined;
    const vector = JSON.parse(hit.response) as unknown;
    if (!Array.isArray(vector) || !vector.every((x) => typeof x === 'number')) return undefined;
    await this.cache.recordHit(key);
    return vector;
  }

  private async call(request: EmbedRequest, texts: string[]): Promise<{ vectors: number[][]; usage: LlmUsage }> {
    const provider = this.provider!;
    const { config } = provider;
    const promptEstimate = texts.reduce((sum, text) => sum + estimateTokens(text), 0);
    const callId = await this.ledger.reserve(
      this.identity(request),
      { tokens: promptEstimate, costUsd: costOf(this.prices, config.model, promptEstimate, 0) },
      request.budget,
    );
    const started = Date.now();
    try {
      const response = await provider.limiter.run(
        () =>
          provider.client.embeddings.create(
            {
              model: config.deployment ?? config.model,
              input: texts,
              encoding_format: 'float',
              ...(this.config.dimensions && { dimensions: this.config.dimensions }),
            },
            { signal: request.signal },
          ),
        request.signal,
      );
      const ordered = [...response.data].sort((a, b) => a.index - b.index);
      if (ordered.length !== texts.length) {
        throw new LlmFailure(
          'LlmInvalidOutput',
          false,
          `embedding model ${config.model} returned ${ordered.length} vectors for ${texts.length} texts`,
          config.name,
        );
      }
      const promptTokens = response.usage?.prompt_tokens ?? promptEstimate;
      const costUsd = costOf(this.prices, config.model, promptTokens, 0);
      await this.ledger.settle(callId, { promptTokens, completionTokens: 0, costUsd, latencyMs: Date.now() - started });
      // Stored unit length, so cosine distance and inner product agree whatever the provider returns.
      const vectors = ordered.map((item) => normalise(item.embedding));
      return { vectors, usage: { ...NO_USAGE, calls: 1, promptTokens, costUsd } };
    } catch (error) {
      const failure = classify(error, config);
      await this.ledger.fail(callId, {
        error: failure.message,
        timedOut: failure.type === 'LlmTimeout' || failure.type === 'LlmCancelled',
        latencyMs: Date.now() - started,
      });
      throw failure;
    }
  }
}
