import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { roundUsd } from '../../contracts/usage';
import builtIn from './prices.json';

const PriceTable = z.object({
  models: z.record(z.string(), z.object({ input: z.number().min(0), output: z.number().min(0) })),
});

export type Prices = z.infer<typeof PriceTable>['models'];

/** The built-in table, extended (and overridden per model) by LLM_PRICES_FILE when given. */
export function loadPrices(pricesFile?: string): Prices {
  const table = { ...PriceTable.parse(builtIn).models };
  if (pricesFile) {
    const parsed = PriceTable.safeParse(JSON.parse(readFileSync(pricesFile, 'utf8')));
    if (!parsed.success)
      throw new Error(`LLM_PRICES_FILE ${pricesFile}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    Object.assign(table, parsed.data.models);
  }
  return table;
}

/** Price per 1M tokens for a model: exact name, else the longest known prefix (dated snapshots); undefined if unknown. */
export function priceOf(prices: Prices, model: string) {
  const name = model.toLowerCase();
  if (prices[name]) return prices[name];
  const prefix = Object.keys(prices)
    .filter((known) => name.startsWith(`${known}-`))
    .sort((a, b) => b.length - a.length)[0];
  return prefix ? prices[prefix] : undefined;
}

/** Cost of a call in USD, or null when the model has no known price. */
export function costOf(prices: Prices, model: string, promptTokens: number, completionTokens: number): number | null {
  const price = priceOf(prices, model);
  if (!price) return null;
  return roundUsd((promptTokens * price.input + completionTokens * price.output) / 1_000_000);
}
