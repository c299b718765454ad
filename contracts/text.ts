import { z } from 'zod';

// Strings that people send: who they are, what they want, why. Every such field goes through line()
// or text(), so the API, the workflow's message validators and the activities refuse the same input:
// control characters (NUL breaks PostgreSQL, the others hide text in logs and terminals) and unpaired
// surrogates (not Unicode, refused by PostgreSQL's JSON), named in a message that says where.

/* eslint-disable no-control-regex -- finding control characters is what these patterns are for */
/** C0 controls, DEL and C1 controls: never in a single-line field. */
const LINE = /^[^\u0000-\u001f\u007f-\u009f]*$/;
/** The same, less tab and line breaks (LF, and CR for CRLF line endings): multi-line text. */
const TEXT = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$/;
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
/* eslint-enable no-control-regex */

function firstControl(value: string, allowed: RegExp): string {
  const index = [...value].findIndex((char) => !allowed.test(char));
  const code = [...value][index]?.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')} at character ${index + 1}`;
}

export interface TextOptions {
  /** Longest accepted length, after trimming. */
  max: number;
  /** Shortest accepted length after trimming (default 1: blank is refused). */
  min?: number;
  /** The message for a missing value or one that is not a string. */
  typeError?: string;
}

function checked(pattern: RegExp, problem: string, { max, min = 1, typeError }: TextOptions) {
  const schema = z
    .string({ error: (issue) => typeError ?? (issue.input === undefined ? 'is required' : 'must be a string') })
    .regex(pattern, { error: (issue) => `${problem} (found ${firstControl(String(issue.input), pattern)})` })
    .refine((value) => !UNPAIRED_SURROGATE.test(value), 'must be valid Unicode text (found an unpaired surrogate)')
    .trim()
    .max(max, `must be at most ${max} characters`);
  return min > 0 ? schema.min(min, min === 1 ? 'must not be empty' : `must be at least ${min} characters`) : schema;
}

/** A single-line field (a name, an id someone types): no control characters at all. */
export function line(options: TextOptions) {
  return checked(LINE, 'must be a single line without control characters', options);
}

/** Multi-line text (an intent, a reason): no control characters but tab and line breaks. */
export function text(options: TextOptions) {
  return checked(TEXT, 'must not contain control characters other than tab and line breaks', options);
}

/** Makes any string safe to store and show: controls and unpaired surrogates become U+FFFD, cut at `max`. */
export function printable(value: string, max: number): string {
  const cleaned = value.replace(CONTROL, '\ufffd').replace(new RegExp(UNPAIRED_SURROGATE.source, 'g'), '\ufffd');
  return cleaned.length > max ? `${cleaned.slice(0, max - 1)}…` : cleaned;
}

const MARKDOWN = /[\\`*_{}[\]()#+\-.!|~]/;
const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** One character as it must be written in markdown to show as itself. */
function literalChar(char: string): string {
  return HTML[char] ?? (MARKDOWN.test(char) ? `\\${char}` : char);
}

/**
 * Text someone typed, shown literally inside markdown (the Temporal Web UI's summary and details):
 * one line, markdown punctuation backslash-escaped, HTML's special characters as entities, so
 * "**APPROVED by CISO**" or "<img src=x>" reads as typed instead of as formatting. With `maxBytes`
 * (Temporal limits a summary's size) it is cut at a whole character, never inside an escape, and
 * ends with an ellipsis.
 */
export function markdownLiteral(value: string, maxBytes = Infinity): string {
  const pieces = [...value.replace(/\s+/g, ' ').trim()].map(literalChar);
  const whole = pieces.join('');
  if (maxBytes === Infinity || utf8Bytes(whole) <= maxBytes) return whole;
  let out = '';
  let bytes = utf8Bytes('…');
  for (const piece of pieces) {
    bytes += utf8Bytes(piece);
    if (bytes > maxBytes) break;
    out += piece;
  }
  return `${out}…`;
}

function utf8Bytes(value: string): number {
  let bytes = 0;
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}
