import type { z } from 'zod';
import { invalid } from './problems';

/**
 * Parses a request part with its zod contract, or throws a 400 naming each bad field;
 * `where` prefixes the field names: body, query, path or header.<name>.
 */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalid(result.error, where);
  return result.data;
}
