import { createHash } from 'node:crypto';
import type { Database } from '../db/client';

/** What identifies a response: the same key means the same question to the same model. */
export interface CacheKeyParts {
  model: string;
  messages: { role: string; content: string }[];
  parameters: Record<string, unknown>;
  schemaName: string;
  schema: unknown;
}

export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export interface CachedResponse {
  key: string;
  model: string;
  response: string;
}

/** Validated LLM responses in PostgreSQL, shared by every worker. */
export class ResponseCache {
  constructor(
    private readonly db: Database,
    readonly enabled: boolean,
  ) {}

  /** The first of `keys` (in failover order) that has an entry. */
  async find(keys: string[]): Promise<CachedResponse | undefined> {
    if (!this.enabled || keys.length === 0) return undefined;
    const rows = await this.db.llmCacheEntry.findMany({ where: { key: { in: keys } } });
    return keys.map((key) => rows.find((row) => row.key === key)).find((row) => row !== undefined);
  }

  async recordHit(key: string): Promise<void> {
    await this.db.llmCacheEntry.update({ where: { key }, data: { hits: { increment: 1 }, lastHitAt: new Date() } });
  }

  async store(
    key: string,
    model: string,
    response: string,
    tokens: { prompt: number; completion: number },
  ): Promise<void> {
    if (!this.enabled) return;
    // Two workers answering the same question at once both store; the first one wins, and that is fine.
    await this.db.llmCacheEntry.createMany({
      data: [{ key, model, response, promptTokens: tokens.prompt, completionTokens: tokens.completion }],
      skipDuplicates: true,
    });
  }
}
