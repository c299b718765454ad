import { z } from 'zod';
import type { Budget, SpendEstimate } from '../../contracts/budget';
import { type LlmUsage, NO_USAGE, sumUsage } from '../../contracts/usage';
import type { Database } from '../db/client';
import { cacheKey, ResponseCache } from './cache';
import type { LlmConfig } from './config';
import { classify, LlmFailure } from './errors';
import { parseStructured } from './json-extract';
import { BudgetExceededError, SpendLedger, type CallIdentity } from './ledger';
import { costOf, loadPrices, type Prices } from './pricing';
import { createProvider, type Provider } from './providers';
import { withSpan } from '../telemetry/tracing';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface StructuredRequest<T> {
  intentId: string;
  taskId?: string;
  /** What the call is for, in the ledger: `plan`, `agent:codegen`, … */
  purpose: string;
  /** Names the JSON schema sent to the provider: letters, digits, `_` and `-`. */
  schemaName: string;
  schema: z.ZodType<T>;
  messages: ChatMessage[];
  budget: Budget;
  /** Aborts the request (activity cancellation). */
  signal?: AbortSignal;
}

export interface StructuredResult<T> {
  value: T;
  usage: LlmUsage;
  provider: string;
  model: string;
  /** True when the first reply was invalid and the repair round fixed it. */
  repaired: boolean;
}

interface Reply {
  text: string;
  finishReason: string | null;
  usage: LlmUsage;
  provider: Provider;
}

/** Output that stayed invalid after the repair round: the problems, for the failure message. */
export class InvalidOutputError extends LlmFailure {
  constructor(
    readonly problems: string[],
    provider: string,
  ) {
    super(
      'LlmInvalidOutput',
      false,
      `the LLM's output was still invalid after one repair round: ${problems.join('; ')}`,
      provider,
    );
  }
}

/** Rough tokens for budget reservations: ~3 characters a token over-estimates English and code alike. */
const estimateTokens = (text: string) => Math.ceil(text.length / 3);

/**
 * The single way activities talk to LLMs: response cache, spend ledger with budget reservations,
 * ordered failover across providers, per-provider limits, structured output with one repair round.
 */
export class LlmGateway {
  private readonly providers: Provider[];
  private readonly cache: ResponseCache;
  private readonly ledger: SpendLedger;
  private readonly prices: Prices;

  constructor(
    db: Database,
    private readonly config: LlmConfig,
  ) {
    this.providers = config.providers.map((provider) => createProvider(provider, config));
    this.cache = new ResponseCache(db, config.cache);
    this.ledger = new SpendLedger(db);
    this.prices = loadPrices(config.pricesFile);
  }

  get configured(): boolean {
    return this.providers.length > 0;
  }

  /** `provider/model` in failover order, for labels (never credentials). */
  get label(): string {
    return this.providers.map((p) => `${p.config.name}/${p.config.model}`).join(' → ');
  }

  async completeStructured<T>(request: StructuredRequest<T>): Promise<StructuredResult<T>> {
    if (!this.configured) throw new LlmFailure('LlmBadRequest', false, 'no LLM provider is configured (LLM_PROVIDERS)');
    const jsonSchema = z.toJSONSchema(request.schema, { unrepresentable: 'any' }) as Record<string, unknown>;
    delete jsonSchema.$schema;
    const keyOf = (provider: Provider) =>
      cacheKey({
        model: provider.config.model,
        messages: request.messages,
        parameters: this.parameters(provider),
        schemaName: request.schemaName,
        schema: jsonSchema,
      });

    const hit = await this.cache.find(this.providers.map(keyOf));
    if (hit) {
      const parsed = parseStructured(hit.response, request.schema);
      const provider = this.providers.find((p) => keyOf(p) === hit.key)!;
      if (parsed.ok) {
        await this.cache.recordHit(hit.key);
        await this.ledger.recordCacheHit(this.identity(request, provider, request.purpose));
        const usage: LlmUsage = { ...NO_USAGE, calls: 1, cachedCalls: 1, cached: true };
        return {
          value: parsed.value,
          usage,
          provider: provider.config.name,
          model: provider.config.model,
          repaired: false,
        };
      }
    }

    const first = await this.complete(request, request.messages, jsonSchema, request.purpose);
    let usage = first.usage;
    let parsed = parseStructured(first.text, request.schema);
    let repaired = false;
    if (!parsed.ok) {
      const repairMessages: ChatMessage[] = [
        ...request.messages,
        { role: 'assistant', content: first.text.slice(0, 50_000) },
        { role: 'user', content: repairPrompt(parsed.problems, first.finishReason, this.config.maxOutputTokens) },
      ];
      const second = await this.complete(request, repairMessages, jsonSchema, `${request.purpose}:repair`);
      usage = sumUsage(usage, second.usage);
      parsed = parseStructured(second.text, request.schema);
      if (!parsed.ok) throw new InvalidOutputError(parsed.problems, second.provider.config.name);
      repaired = true;
    }
    // Stored under the original question: the next identical request gets the validated answer.
    await this.cache.store(keyOf(first.provider), first.provider.config.model, JSON.stringify(parsed.value), {
      prompt: usage.promptTokens,
      completion: usage.completionTokens,
    });
    return {
      value: parsed.value,
      usage,
      provider: first.provider.config.name,
      model: first.provider.config.model,
      repaired,
    };
  }

  /** One completion, trying providers in order; what every provider said is in the failure. */
  private async complete(
    request: StructuredRequest<unknown>,
    messages: ChatMessage[],
    schema: object,
    purpose: string,
  ): Promise<Reply> {
    const failures: LlmFailure[] = [];
    for (const provider of this.providers) {
      try {
        const { name, model } = provider.config;
        const call = () => this.callProvider(provider, request, messages, schema, purpose);
        return await withSpan('llm.chat', call, { 'llm.provider': name, 'llm.model': model, 'llm.purpose': purpose });
      } catch (error) {
        if (error instanceof BudgetExceededError || request.signal?.aborted) throw error;
        failures.push(classify(error, provider.config));
      }
    }
    if (failures.length === 1) throw failures[0]!;
    const lead = failures.find((f) => f.retryable) ?? failures[0]!;
    throw new LlmFailure(
      lead.type,
      failures.some((f) => f.retryable),
      `every LLM provider failed: ${failures.map((f) => f.message).join('; ')}`,
      undefined,
      lead.status,
      lead.retryAfterMs,
    );
  }

  private async callProvider(
    provider: Provider,
    request: StructuredRequest<unknown>,
    messages: ChatMessage[],
    schema: object,
    purpose: string,
  ): Promise<Reply> {
    const { config } = provider;
    const sent = this.adaptMessages(provider, messages, request.schemaName, schema);
    const promptEstimate = estimateTokens(sent.map((m) => m.content).join('\n')) + 8 * sent.length;
    const estimate: SpendEstimate = {
      tokens: promptEstimate + this.config.maxOutputTokens,
      costUsd: costOf(this.prices, config.model, promptEstimate, this.config.maxOutputTokens),
    };
    const callId = await this.ledger.reserve(this.identity(request, provider, purpose), estimate, request.budget);
    const started = Date.now();
    let sentAt = Number.POSITIVE_INFINITY;
    try {
      const completion = await provider.limiter.run(() => {
        sentAt = Date.now();
        return provider.client.chat.completions.create(
          {
            model: config.deployment ?? config.model,
            messages: sent,
            ...this.parameters(provider),
            ...this.responseFormat(provider, request.schemaName, schema),
          },
          { signal: request.signal, timeout: this.config.timeoutMs },
        );
      }, request.signal);
      const choice = completion.choices[0];
      const text = choice?.message?.content ?? '';
      const promptTokens = completion.usage?.prompt_tokens ?? promptEstimate;
      const completionTokens = completion.usage?.completion_tokens ?? estimateTokens(text);
      // Azure reports the real model behind a deployment; prefer it for pricing when we know its price.
      const priced = costOf(this.prices, completion.model ?? '', promptTokens, completionTokens);
      const costUsd = priced ?? costOf(this.prices, config.model, promptTokens, completionTokens);
      await this.ledger.settle(callId, { promptTokens, completionTokens, costUsd, latencyMs: Date.now() - started });
      if (choice?.finish_reason === 'content_filter') {
        throw new LlmFailure(
          'LlmContentFiltered',
          false,
          `LLM provider ${config.name} withheld its answer (content filter)`,
          config.name,
        );
      }
      const usage: LlmUsage = { ...NO_USAGE, calls: 1, promptTokens, completionTokens, costUsd };
      return { text, finishReason: choice?.finish_reason ?? null, usage, provider };
    } catch (error) {
      if (error instanceof LlmFailure) throw error;
      const failure = classify(error, config, { ranOutOfTime: Date.now() - sentAt >= this.config.timeoutMs });
      await this.ledger.fail(callId, {
        error: failure.message,
        timedOut: failure.type === 'LlmTimeout' || failure.type === 'LlmCancelled',
        latencyMs: Date.now() - started,
      });
      throw failure;
    }
  }

  private identity(request: StructuredRequest<unknown>, provider: Provider, purpose: string): CallIdentity {
    return {
      intentId: request.intentId,
      taskId: request.taskId,
      purpose,
      provider: provider.config.name,
      model: provider.config.model,
    };
  }

  /** Sampling parameters; reasoning models (o1, o3, o4…) accept no temperature. */
  private parameters(provider: Provider): Record<string, number> {
    const reasoning = /^o\d/.test(provider.config.model);
    const limit = provider.config.name === 'compatible' ? 'max_tokens' : 'max_completion_tokens';
    return { [limit]: this.config.maxOutputTokens, ...(!reasoning && { temperature: this.config.temperature }) };
  }

  private responseFormat(provider: Provider, name: string, schema: object) {
    switch (provider.config.responseFormat) {
      case 'json_schema':
        return {
          response_format: {
            type: 'json_schema' as const,
            json_schema: { name, schema: schema as Record<string, unknown>, strict: false },
          },
        };
      case 'json_object':
        return { response_format: { type: 'json_object' as const } };
      default:
        return {};
    }
  }

  /** Providers without schema-constrained output get the schema in the prompt instead. */
  private adaptMessages(provider: Provider, messages: ChatMessage[], name: string, schema: object): ChatMessage[] {
    if (provider.config.responseFormat === 'json_schema') return messages;
    const instruction = `Reply with one JSON object only (no prose, no code fences) that matches this JSON schema named ${name}:\n${JSON.stringify(schema)}`;
    return [...messages, { role: 'user', content: instruction }];
  }
}

function repairPrompt(problems: string[], finishReason: string | null, maxTokens: number): string {
  const lines = ['Your previous reply could not be used:', ...problems.map((p) => `- ${p}`)];
  if (finishReason === 'length')
    lines.push(`- it was cut off at the output limit (${maxTokens} tokens): make it shorter`);
  lines.push('Reply again with only the corrected JSON object. Keep what was valid; fix exactly these problems.');
  return lines.join('\n');
}
