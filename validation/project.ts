import { posix } from 'node:path';
import { TextDecoder } from 'node:util';
import type { PathConflict } from '../adapters/storage/artifacts';

export type { PathConflict };

/** A generated file, decoded as text. Its content is untrusted input. */
export interface ProjectFile {
  path: string;
  content: string;
}

/** A shipped file no check could judge, with why: listed at the gate, it prevents a `passed` verdict. */
export interface UnassessedFile {
  path: string;
  reason: string;
}

/** Control characters in a text file: where the first one is and which ones occur. */
export interface ControlCharacters {
  path: string;
  line: number;
  column: number;
  /** Code points as `U+0000`, each once. */
  characters: string[];
  count: number;
}

/** The generated project, in memory: every check reads it, none writes it. */
export interface Project {
  files: ProjectFile[];
  /** Shipped files that are not analysed as text (binary types, oversized); absent for hand-built projects. */
  unassessed?: UnassessedFile[];
  /** Text files that carry control characters (NUL, ESC, …); their text is analysed with NUL neutralised. */
  controlCharacters?: ControlCharacters[];
  /** Conflicts between task outputs found where they were merged. */
  pathConflicts?: PathConflict[];
}

// Larger files are not analysed (and are listed as not assessed): generated sources are small.
export const MAX_SCANNED_BYTES = 2 * 1024 * 1024;
// Raw-text scanners read longer lines in overlapping windows of this size, so no regex sees an unbounded line.
export const MAX_SCANNED_LINE = 8 * 1024;
export const LINE_WINDOW_OVERLAP = 512;

const CODE_EXTENSIONS = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

export const isCodeFile = (path: string) => CODE_EXTENSIONS.test(path) && !path.endsWith('.d.ts');
export const isTypeScriptFile = (path: string) => /\.(ts|tsx|mts|cts)$/.test(path);

const TEXT_EXTENSIONS = new Set(
  (
    'ts tsx mts cts js jsx mjs cjs json jsonc json5 md mdx markdown txt text yaml yml sh bash zsh ksh env toml ini cfg conf ' +
    'xml html htm css scss sass less sql graphql gql prisma py rb go java kt rs php cs c h cpp hpp swift csv tsv svg ' +
    'lock properties tf hcl proto ejs hbs handlebars pug mustache vue svelte map gitignore dockerignore npmrc nvmrc ' +
    'editorconfig eslintrc prettierrc babelrc semgrepignore gitattributes example sample template tpl rst adoc'
  ).split(' '),
);
const TEXT_NAMES = new Set(
  'Dockerfile Containerfile Makefile Procfile Jenkinsfile Vagrantfile Gemfile LICENSE LICENCE README CHANGELOG NOTICE AUTHORS CODEOWNERS'.split(
    ' ',
  ),
);
const BINARY_EXTENSIONS = new Set(
  (
    'png jpg jpeg gif ico webp bmp tif tiff avif pdf zip gz tgz tar bz2 xz 7z rar wasm woff woff2 ttf otf eot mp3 mp4 ' +
    'wav ogg webm mov avi so dll dylib exe bin class jar node o a obj db sqlite sqlite3 pyc pem der p12 pfx keystore'
  ).split(' '),
);

const extensionOf = (path: string) => {
  const name = posix.basename(path);
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
};

/** Text by type (name or extension): code, data, docs, scripts, Dockerfiles… A control character in one is a finding. */
export function isTextType(path: string): boolean {
  const name = posix.basename(path);
  const stem = name.split('.')[0]!;
  return (
    TEXT_EXTENSIONS.has(extensionOf(path)) ||
    TEXT_NAMES.has(name) ||
    TEXT_NAMES.has(stem) ||
    name.startsWith('.env') ||
    /^(Dockerfile|Containerfile)[.-]/.test(name)
  );
}

/** A file type that is binary by nature (images, archives, fonts, executables): no text check applies. */
export const isBinaryType = (path: string) => BINARY_EXTENSIONS.has(extensionOf(path));

/** Paths must be relative, normalised and inside the project; anything else is refused. */
export function isSafeProjectPath(path: string): boolean {
  return (
    path.length > 0 &&
    path.length <= 255 &&
    !path.includes('\\') &&
    !path.includes('\0') &&
    !posix.isAbsolute(path) &&
    posix.normalize(path) === path &&
    !path.split('/').includes('..')
  );
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decode(content: Buffer | string): { text: string; valid: boolean } {
  if (typeof content === 'string') return { text: content, valid: true };
  try {
    return { text: strictUtf8.decode(content), valid: true };
  } catch {
    return { text: content.toString('utf8'), valid: false };
  }
}

/** A control character other than tab, LF and CR (C0, DEL, C1). */
export const isForbiddenControl = (code: number) =>
  (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || (code >= 0x7f && code <= 0x9f);

// Bidirectional overrides and isolates (Trojan Source): code that reads differently from how it runs.
const isBidiControl = (code: number) => (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
// Invisible characters that can hide inside an identifier (`ad\u200dmin` is not `admin`).
const isInvisible = (code: number) =>
  (code >= 0x200b && code <= 0x200f) || (code >= 0x2060 && code <= 0x2064) || code === 0xfeff;
const isIdentifierChar = (code: number) =>
  (code >= 0x30 && code <= 0x39) ||
  (code >= 0x41 && code <= 0x5a) ||
  (code >= 0x61 && code <= 0x7a) ||
  code === 0x5f ||
  code === 0x24;
const PROSE = /\.(md|mdx|markdown|txt|rst|adoc)$/i;

/**
 * Where characters that hide content occur in a text, or undefined when there are none: control characters
 * other than tab/LF/CR anywhere; bidirectional controls outside prose; invisible characters beside an
 * identifier character in code (a BOM at the start and emoji joiners are fine).
 */
export function findControlCharacters(path: string, text: string): ControlCharacters | undefined {
  const prose = PROSE.test(path);
  const code = isCodeFile(path) || isTypeScriptFile(path);
  let first = -1;
  let count = 0;
  const characters = new Set<string>();
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    const hides =
      isForbiddenControl(char) ||
      (!prose && isBidiControl(char)) ||
      (code &&
        isInvisible(char) &&
        i > 0 &&
        (isIdentifierChar(text.charCodeAt(i - 1)) || isIdentifierChar(text.charCodeAt(i + 1))));
    if (!hides) continue;
    if (first < 0) first = i;
    count++;
    if (characters.size < 16) characters.add(`U+${char.toString(16).toUpperCase().padStart(4, '0')}`);
  }
  if (first < 0) return undefined;
  return { path, ...positionAt(text, first), characters: [...characters], count };
}

/**
 * Builds the project from exactly the files that ship. Every file is either analysed as text or listed as
 * not assessed (binary types, binary content of an unknown type, oversized files): none is silently left out.
 * Text files with NUL are analysed with the NUL replaced by a space (same offsets); their control
 * characters are recorded for the content-policy finding.
 */
export function projectFromFiles(
  files: { path: string; content: Buffer | string }[],
  options: { pathConflicts?: PathConflict[] } = {},
): Project {
  const decoded: ProjectFile[] = [];
  const unassessed: UnassessedFile[] = [];
  const controlCharacters: ControlCharacters[] = [];
  for (const file of files) {
    if (!isSafeProjectPath(file.path)) throw new Error(`unsafe project path ${JSON.stringify(file.path)}`);
    const { text, valid } = decode(file.content);
    const hasNul = text.includes('\0');
    const bytes = typeof file.content === 'string' ? Buffer.byteLength(file.content) : file.content.length;
    if (isBinaryType(file.path)) {
      unassessed.push({ path: file.path, reason: 'binary file type: no check reads it' });
      // Readable as text all the same: the text scanners (secrets…) still look at it.
      if (!hasNul && valid) decoded.push({ path: file.path, content: text });
      continue;
    }
    if (!isTextType(file.path) && (hasNul || !valid)) {
      unassessed.push({ path: file.path, reason: 'binary content in a file of unknown type: no check reads it' });
      continue;
    }
    if (bytes > MAX_SCANNED_BYTES)
      unassessed.push({ path: file.path, reason: `larger than ${MAX_SCANNED_BYTES} bytes: content checks skip it` });
    const control = findControlCharacters(file.path, text);
    if (control) controlCharacters.push(control);
    decoded.push({ path: file.path, content: hasNul ? text.replaceAll('\0', ' ') : text });
  }
  const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);
  return {
    files: decoded.sort(byPath),
    unassessed: unassessed.sort(byPath),
    controlCharacters: controlCharacters.sort(byPath),
    pathConflicts: options.pathConflicts ?? [],
  };
}

/** Files small enough to scan (the others are listed as not assessed by projectFromFiles). */
export const scannableFiles = (project: Project) =>
  project.files.filter((file) => Buffer.byteLength(file.content) <= MAX_SCANNED_BYTES);

/**
 * The text in pieces a regex can scan in bounded time: each line, and lines over MAX_SCANNED_LINE in
 * overlapping windows (a match shorter than the overlap is seen whole in some window). `offset` is the
 * piece's start in the text; callers dedupe matches by absolute offset.
 */
export function* textPieces(text: string): Generator<{ offset: number; text: string }> {
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end - start <= MAX_SCANNED_LINE) yield { offset: start, text: text.slice(start, end) };
    else {
      const step = MAX_SCANNED_LINE - LINE_WINDOW_OVERLAP;
      for (let at = start; at < end; at += step) {
        yield { offset: at, text: text.slice(at, Math.min(end, at + MAX_SCANNED_LINE)) };
        if (at + MAX_SCANNED_LINE >= end) break;
      }
    }
    start = end + 1;
  }
}

/** Every match of a global regex over the text's pieces, with absolute offsets, each offset once. */
export function* matchPieces(text: string, pattern: RegExp): Generator<RegExpMatchArray & { index: number }> {
  const seen = new Set<number>();
  for (const piece of textPieces(text)) {
    for (const match of piece.text.matchAll(pattern)) {
      const index = piece.offset + match.index;
      if (seen.has(index)) continue;
      seen.add(index);
      match.index = index;
      yield match as RegExpMatchArray & { index: number };
    }
  }
}

// Line starts of the last text asked about: findings come in runs over one file.
let lineIndex: { text: string; starts: number[] } | undefined;

function lineStarts(content: string): number[] {
  if (lineIndex?.text === content) return lineIndex.starts;
  const starts = [0];
  for (let at = content.indexOf('\n'); at >= 0; at = content.indexOf('\n', at + 1)) starts.push(at + 1);
  lineIndex = { text: content, starts };
  return starts;
}

/** 1-based line and column of a character offset (binary search over line starts: no rescan per finding). */
export function positionAt(content: string, offset: number): { line: number; column: number } {
  const starts = lineStarts(content);
  const at = Math.max(0, Math.min(offset, content.length));
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= at) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - starts[low]! + 1 };
}
