import type { z } from 'zod';

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/**
 * Finds the JSON in a model's reply, tolerating what models add around it: code fences,
 * a sentence before or after, trailing commas. Strict JSON.parse does the actual parsing.
 */
export function extractJson(text: string): Parsed<unknown> {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (!trimmed) return { ok: false, problems: ['the reply was empty'] };
  const candidates = [trimmed];
  const fenced = /```(?:json|JSON)?\s*\n([\s\S]*?)\n?```/.exec(trimmed);
  if (fenced?.[1]) candidates.push(fenced[1].trim());
  const start = trimmed.search(/[{[]/);
  const end = Math.max(trimmed.lastIndexOf('}'), trimmed.lastIndexOf(']'));
  if (start >= 0 && end > start) candidates.push(trimmed.slice(start, end + 1));
  let firstError = '';
  for (const candidate of candidates) {
    for (const attempt of [candidate, candidate.replace(/,\s*([}\]])/g, '$1')]) {
      try {
        return { ok: true, value: JSON.parse(attempt) as unknown };
      } catch (error) {
        firstError ||= (error as Error).message;
      }
    }
  }
  return { ok: false, problems: [`the reply is not valid JSON (${firstError})`] };
}

/** Extracts and validates: the value, or every problem a repair round should fix. */
export function parseStructured<T>(text: string, schema: z.ZodType<T>): Parsed<T> {
  const json = extractJson(text);
  if (!json.ok) return json;
  const result = schema.safeParse(json.value);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    problems: result.error.issues.slice(0, 20).map((issue) => {
      const path = issue.path.map(String).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    }),
  };
}
