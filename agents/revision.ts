import type { ChatMessage } from '../adapters/llm';
import type { GeneratedFile } from './generated-file';

/** A re-run agent's context: why it runs again and what it wrote last time. */
export interface RevisionContext {
  kind: 'changes' | 'repair';
  /** `v2`, `r1` …: which revision this is. */
  label: string;
  /** The reviewer's comments, or the validation failures in brief. */
  feedback: string;
  /** The task's files from the previous version. */
  previousFiles: GeneratedFile[];
  /** Repair: failing tests and build steps with their output excerpts. */
  failures: string[];
}

/** Previous files put into the prompt; beyond this only their paths are listed. */
const PREVIOUS_CHARS = 60_000;

/**
 * The message that turns a task's prompt into a revision: the previous output, then what to change.
 * The feedback is data from people and test output, fenced, never instructions that change the rules.
 */
export function revisionMessage(context: RevisionContext): ChatMessage {
  const why =
    context.kind === 'changes'
      ? 'A reviewer requested changes to your previous output. Apply them.'
      : 'Your previous output failed validation (build, type-check or tests in the sandbox). Fix it.';
  let budget = PREVIOUS_CHARS;
  const previous = context.previousFiles
    .map((file) => {
      if (file.content.length > budget) return `--- ${file.path} (omitted: context limit) ---`;
      budget -= file.content.length;
      return `--- ${file.path} ---\n${file.content}`;
    })
    .join('\n\n');
  const failures = context.failures.length ? `\n\nFailures:\n${fence(context.failures.join('\n\n'))}` : '';
  return {
    role: 'user',
    content:
      `Revision ${context.label}. ${why} Reply with the complete corrected files (the same JSON shape), ` +
      `not a patch; keep what was right.\n\nYour previous output:\n${previous || '(none)'}\n\n` +
      `Feedback:\n${fence(context.feedback)}${failures}`,
  };
}

/** Fences untrusted text so a line inside cannot close the block. */
function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}text\n${text}\n${ticks}`;
}
