// Server-provided text on a terminal: shown, never obeyed. Control characters (C0, DEL, C1: ESC/CSI/OSC
// sequences, BEL, carriage returns) and the invisible characters that reorder or hide text (bidi
// overrides and isolates, zero-width marks, line/paragraph separators) are escaped visibly.

const INVISIBLE = '\\u061c\\u200b\\u200e\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff\\ufff9-\\ufffb';
/** Everything unsafe, tab and newline included: for one-line fields. */
const UNSAFE_ONE_LINE = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${INVISIBLE}]`, 'g');
/** Everything unsafe but tab and newline: for fields meant to span lines. */
const UNSAFE_MULTI_LINE = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${INVISIBLE}]`, 'g');
/** What the CLI itself prints: colour (SGR) sequences, kept at the output sink; anything else unsafe is escaped. */
const OUTPUT = new RegExp(`\\u001b\\[[0-9;]*m|${UNSAFE_MULTI_LINE.source}`, 'g');

/** `\x1b`, `\x9b`, `\u202e`: the character's code, readable and inert. */
function visible(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** A one-line field (a name, a reason, a test name): no control or invisible character survives, not even a newline. */
export function escapeOneLine(text: string): string {
  return text.replace(UNSAFE_ONE_LINE, visible);
}

/** A multi-line field (a compiler message): tab and newline stay, everything else unsafe is escaped. */
export function escapeMultiLine(text: string): string {
  return text.replace(UNSAFE_MULTI_LINE, visible);
}

/** Every string (and key) of a parsed API answer, made safe to print; numbers, booleans and nulls as they are. */
export function sanitizeDeep<T>(value: T): T {
  if (typeof value === 'string') return escapeMultiLine(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => sanitizeDeep(item)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [escapeOneLine(key), sanitizeDeep(item)]),
    ) as T;
  }
  return value;
}

/**
 * A JSON text for --json, unchanged in meaning: C1, DEL and invisible characters (legal raw inside JSON
 * strings) become `\uXXXX` escapes; raw C0 (illegal there: only a non-JSON body has them) too; a carriage
 * return, legal only as whitespace between tokens, is dropped.
 */
export function escapeJsonText(raw: string): string {
  return raw
    .replace(/\r/g, '')
    .replace(UNSAFE_MULTI_LINE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The last guard before the terminal: the CLI's own colours pass, any other control or invisible character is escaped. */
export function guardOutput(text: string): string {
  return text.replace(OUTPUT, (match) => (match.length > 1 ? match : visible(match)));
}
