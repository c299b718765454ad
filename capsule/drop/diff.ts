import { FILE_HEADERS_ONLY, formatPatch, structuredPatch, type StructuredPatch } from 'diff';
import type { DropChange, DropChangeSummary } from '../../contracts/drop';
import { DROP_LIMITS, sizeText, type DropLimits } from './limits';

// What changed between two versions of a project: a unified diff per file (jsdiff), bounded in CPU
// and in size, every cut said in words. Deterministic: paths in code-unit order, no clock, no timeout.

export interface DropFile {
  path: string;
  content: Buffer;
  sha256: string;
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The file as text, or undefined when it is binary (a NUL byte, or not UTF-8). */
function textOf(content: Buffer): string | undefined {
  if (content.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(content);
  } catch {
    return undefined;
  }
}

/** Lets the event loop run (the activity's heartbeat timer) between files: each diff is synchronous CPU. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The first lines of `text` that fit in `maxBytes` (UTF-8), and how many lines were left out. */
function cutToBytes(text: string, maxBytes: number): { shown: string; omittedLines: number } {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let bytes = 0;
  let kept = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line) + 1;
    if (bytes + size > maxBytes) break;
    bytes += size;
    kept++;
  }
  return {
    shown: lines
      .slice(0, kept)
      .map((line) => `${line}\n`)
      .join(''),
    omittedLines: lines.length - kept,
  };
}

function countLines(patch: StructuredPatch): { additions: number; deletions: number } {
  let additions = 0;
  let deletions = 0;
  for (const hunk of patch.hunks) {
    for (const line of hunk.lines) {
      if (line.startsWith('+')) additions++;
      else if (line.startsWith('-')) deletions++;
    }
  }
  return { additions, deletions };
}

interface Budget {
  bytes: number;
  work: number;
}

type Tally = Record<'cutPerFile' | 'cutTotal' | 'tooLarge' | 'tooManyChanges' | 'noWork', number>;

/** One changed file: its diff when it can be computed and shown within what is left of the budgets. */
function changeOf(
  before: DropFile | undefined,
  after: DropFile | undefined,
  limits: DropLimits,
  budget: Budget,
  tally: Tally,
): DropChange {
  const path = (after ?? before)!.path;
  const status = !before ? 'added' : !after ? 'removed' : 'modified';
  const base = {
    path,
    status,
    before: before?.sha256 ?? null,
    after: after?.sha256 ?? null,
    additions: null,
    deletions: null,
    diff: '',
  } satisfies DropChange;
  const oldText = before ? textOf(before.content) : '';
  const newText = after ? textOf(after.content) : '';
  if (oldText === undefined || newText === undefined) return { ...base, binary: true };
  const largest = Math.max(before?.content.length ?? 0, after?.content.length ?? 0);
  if (largest > limits.diffInputBytes) {
    tally.tooLarge++;
    return {
      ...base,
      notAssessed: `too large to diff (${largest} bytes; the limit is ${sizeText(limits.diffInputBytes)})`,
    };
  }
  // Added and removed files cost a pass over their lines; a modified file's diff costs up to maxEditLength².
  const modified = status === 'modified';
  if (modified && budget.work <= 0) {
    tally.noWork++;
    return {
      ...base,
      notAssessed: `not diffed: earlier files used the drop's budget of ${limits.diffWork} changed lines`,
    };
  }
  const [oldName, newName] = [before ? `a/${path}` : '/dev/null', after ? `b/${path}` : '/dev/null'];
  const patch = modified
    ? structuredPatch(oldName, newName, oldText, newText, undefined, undefined, {
        context: 3,
        maxEditLength: limits.maxEditLength,
      })
    : structuredPatch(oldName, newName, oldText, newText, undefined, undefined, { context: 3 });
  if (!patch) {
    budget.work -= limits.maxEditLength;
    tally.tooManyChanges++;
    return { ...base, notAssessed: `more than ${limits.maxEditLength} changed lines: too many to diff here` };
  }
  const counts = countLines(patch);
  if (modified) budget.work -= counts.additions + counts.deletions;
  const whole = formatPatch(patch, FILE_HEADERS_ONLY);
  const room = Math.min(limits.diffBytesPerFile, budget.bytes);
  const { shown, omittedLines } = cutToBytes(whole, room);
  budget.bytes -= Buffer.byteLength(shown);
  if (omittedLines === 0) return { ...base, ...counts, diff: shown };
  const perFile = room === limits.diffBytesPerFile;
  tally[perFile ? 'cutPerFile' : 'cutTotal']++;
  const reason = perFile
    ? `cut at ${sizeText(limits.diffBytesPerFile)}, the most diff shown per file`
    : `cut: earlier files used the ${sizeText(limits.diffBytesTotal)} of diff a drop shows`;
  return { ...base, ...counts, diff: shown, truncated: { omittedLines, reason } };
}

function cutNotes(tally: Tally, limits: DropLimits): string[] {
  const files = (n: number) => `${n} file${n === 1 ? '' : 's'}`;
  return [
    tally.cutPerFile && `${files(tally.cutPerFile)}: diff cut at ${sizeText(limits.diffBytesPerFile)}`,
    tally.cutTotal &&
      `${files(tally.cutTotal)}: diff cut or left out once ${sizeText(limits.diffBytesTotal)} of diff was shown`,
    tally.tooLarge && `${files(tally.tooLarge)} not diffed: larger than ${sizeText(limits.diffInputBytes)}`,
    tally.tooManyChanges &&
      `${files(tally.tooManyChanges)} not diffed: more than ${limits.maxEditLength} changed lines`,
    tally.noWork && `${files(tally.noWork)} not diffed: the budget of ${limits.diffWork} changed lines was spent`,
  ].filter((note): note is string => Boolean(note));
}

/**
 * The files of `current` that differ from `previous` (every file is added when there is no previous
 * version), in path order, each with its unified diff; and the summary, with what the bounds left out.
 */
export async function diffVersions(
  previous: DropFile[],
  current: DropFile[],
  limits: DropLimits = DROP_LIMITS,
): Promise<{ changes: DropChange[]; summary: DropChangeSummary }> {
  const before = new Map(previous.map((file) => [file.path, file]));
  const after = new Map(current.map((file) => [file.path, file]));
  const paths = [...new Set([...before.keys(), ...after.keys()])].map((path) => ({ path })).sort(byPath);
  const budget: Budget = { bytes: limits.diffBytesTotal, work: limits.diffWork };
  const tally: Tally = { cutPerFile: 0, cutTotal: 0, tooLarge: 0, tooManyChanges: 0, noWork: 0 };
  const changes: DropChange[] = [];
  let unchanged = 0;
  for (const { path } of paths) {
    const old = before.get(path);
    const now = after.get(path);
    if (old && now && old.sha256 === now.sha256) {
      unchanged++;
      continue;
    }
    changes.push(changeOf(old, now, limits, budget, tally));
    await yieldToLoop();
  }
  const count = (status: DropChange['status']) => changes.filter((c) => c.status === status).length;
  return {
    changes,
    summary: {
      files: current.length,
      added: count('added'),
      modified: count('modified'),
      removed: count('removed'),
      unchanged,
      additions: changes.reduce((sum, c) => sum + (c.additions ?? 0), 0),
      deletions: changes.reduce((sum, c) => sum + (c.deletions ?? 0), 0),
      cut: cutNotes(tally, limits),
    },
  };
}
