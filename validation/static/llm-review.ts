import { z } from 'zod';
import { loadPromptSet, render, systemMessage } from '../../agents/prompts';
import type { Finding } from '../../contracts/validation';
import { Severity } from '../../contracts/validation';
import { finding } from '../findings';
import type { Project, ProjectFile } from '../project';
import { redactSecrets } from '../redact';
import { withoutStaticDuplicates } from './weakness-class';

/** One finding as an LLM must return it; anything else is rejected. */
export const LlmFinding = z.strictObject({
  ruleId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be a short kebab-case id'),
  category: z.enum(['security', 'quality']),
  severity: Severity,
  path: z.string().min(1).max(255),
  line: z.number().int().min(1).max(1_000_000),
  message: z.string().min(1).max(500),
  remediation: z.string().max(1000).optional(),
  cwe: z
    .string()
    .regex(/^CWE-\d{1,5}$/)
    .optional(),
});
export type LlmFinding = z.infer<typeof LlmFinding>;

export const LlmReviewOutput = z.strictObject({ findings: z.array(LlmFinding).max(200) });
export type LlmReviewOutput = z.infer<typeof LlmReviewOutput>;

/** Names the answer's JSON schema for providers with structured output (and the ledger's requests). */
export const REVIEW_SCHEMA_NAME = 'code_review';

/** One request: a group of the project's files, rendered into the versioned review prompt. */
export interface LlmReviewRequest {
  /** This request's part of the project: group `index` (1-based) of `total`. */
  group: { index: number; total: number };
  messages: { role: 'system' | 'user'; content: string }[];
  schemaName: string;
  /** The answer's shape, for providers that can be held to it; the answer is parsed here regardless. */
  schema: typeof LlmReviewOutput;
}

/**
 * What the static review needs from an LLM adapter (adapters/llm/reviewer.ts implements it). The answer
 * is untrusted: it is parsed here, never by the adapter's caller.
 */
export interface LlmReviewer {
  /** Provider and model for the report, e.g. `openai/gpt-4.1-mini`: once it has answered, the ones that did. */
  readonly name: string;
  review(request: LlmReviewRequest): Promise<unknown>;
}

/** How much source one request carries, and how many requests one project may cost. */
export interface ReviewLimits {
  groupChars: number;
  maxGroups: number;
}
// ~13k tokens a request, 5 requests at most: a typical generated project is one or two groups.
export const REVIEW_LIMITS: ReviewLimits = { groupChars: 40_000, maxGroups: 5 };

export type LlmReviewResult =
  | {
      status: 'completed';
      reviewer: string;
      /** The prompt set, e.g. `review/v1`. */
      prompt: string;
      findings: Finding[];
      /** Findings about files or lines that do not exist (or were not shown): hallucinations. */
      dropped: number;
      truncated: boolean;
      /** Reviewable files not sent because of the size limits. */
      notSent: string[];
      groups: number;
      /** Groups whose request failed or whose answer was invalid: their files were not reviewed. */
      failedGroups: { files: string[]; reason: string }[];
    }
  | { status: 'skipped'; reason: string }
  | { status: 'not_assessed'; reason: string };

// Documentation and lockfiles have nothing for a code reviewer; everything else is sent.
const isReviewable = (path: string) =>
  !/\.(md|markdown|txt)$/i.test(path) && !/(^|\/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml)$/.test(path);

/**
 * A file with a number before every line, so the reviewer can cite lines. Every content line starts with
 * digits, so nothing inside a file can pass for the closing tag or another file's header.
 */
function numbered(file: ProjectFile): string {
  const lines = linesOf(file.content);
  const width = String(lines.length).length;
  const body = lines.map((line, i) => `${String(i + 1).padStart(width)}| ${redactSecrets(line)}`).join('\n');
  return `<file path=${JSON.stringify(file.path)} lines="${lines.length}">\n${body}\n</file>`;
}

/** Packs reviewable files, in path order (a folder stays together), into groups of bounded size. */
export function groupFiles(project: Project, limits: ReviewLimits = REVIEW_LIMITS) {
  const groups: { files: ProjectFile[]; rendered: string[]; chars: number }[] = [];
  const notSent: string[] = [];
  for (const file of project.files.filter((f) => isReviewable(f.path))) {
    const rendered = numbered(file);
    const last = groups.at(-1);
    if (last && last.chars + rendered.length <= limits.groupChars) {
      last.files.push(file);
      last.rendered.push(rendered);
      last.chars += rendered.length;
    } else if (rendered.length <= limits.groupChars && groups.length < limits.maxGroups) {
      groups.push({ files: [file], rendered: [rendered], chars: rendered.length });
    } else {
      notSent.push(file.path);
    }
  }
  return { groups, notSent };
}

// A final newline ends the last line; it does not start another one.
function linesOf(content: string): string[] {
  const lines = content.split('\n');
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  return lines;
}

type GroupOutcome = { ok: true; items: LlmFinding[]; shown: ProjectFile[] } | { ok: false; reason: string };

async function reviewGroup(reviewer: LlmReviewer, request: LlmReviewRequest, shown: ProjectFile[]) {
  let answer: unknown;
  try {
    answer = await reviewer.review(request);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `LLM review failed: ${redactSecrets(message)}` } satisfies GroupOutcome;
  }
  const parsed = LlmReviewOutput.safeParse(typeof answer === 'string' ? safeJson(answer) : answer);
  if (parsed.success) return { ok: true, items: parsed.data.findings, shown } satisfies GroupOutcome;
  const issue = parsed.error.issues[0];
  const at = issue?.path.join('.') || '(root)';
  return {
    ok: false,
    reason: `LLM review answer failed validation at ${at}: ${issue?.message}`,
  } satisfies GroupOutcome;
}

/** Runs the LLM review when a reviewer is configured, one request per file group; validates and sanitises the answers. */
export async function runLlmReview(
  project: Project,
  reviewer?: LlmReviewer,
  limits: ReviewLimits = REVIEW_LIMITS,
): Promise<LlmReviewResult> {
  if (!reviewer) return { status: 'skipped', reason: 'no LLM configured (offline mode)' };
  const { groups, notSent } = groupFiles(project, limits);
  if (!groups.length) {
    const why = notSent.length ? `every file exceeds the ${limits.groupChars}-character request limit` : 'no code';
    return { status: 'not_assessed', reason: `LLM review: nothing to review (${why})` };
  }
  const prompts = loadPromptSet('review');
  const system = systemMessage(prompts, {});
  const projectFiles = JSON.stringify(project.files.map((f) => f.path).slice(0, 300)).replace(/</g, '\\u003c');
  const truncation = notSent.length
    ? ` Not shown (too large to review): ${JSON.stringify(notSent).replace(/</g, '\\u003c')}.`
    : '';
  const outcomes: GroupOutcome[] = await Promise.all(
    groups.map((group, i) => {
      const values = {
        group: String(i + 1),
        groups: String(groups.length),
        projectFiles,
        truncation,
        files: group.rendered.join('\n\n'),
      };
      const request: LlmReviewRequest = {
        group: { index: i + 1, total: groups.length },
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: render(prompts.task, values) },
        ],
        schemaName: REVIEW_SCHEMA_NAME,
        schema: LlmReviewOutput,
      };
      return reviewGroup(reviewer, request, group.files);
    }),
  );
  const failedGroups = outcomes.flatMap((outcome, i) =>
    outcome.ok ? [] : [{ files: groups[i]!.files.map((f) => f.path), reason: outcome.reason }],
  );
  if (failedGroups.length === groups.length) {
    const first = failedGroups[0]!.reason;
    return { status: 'not_assessed', reason: groups.length === 1 ? first : `every file group failed; ${first}` };
  }
  const { findings, dropped } = checkedFindings(outcomes);
  return {
    status: 'completed',
    reviewer: reviewer.name,
    prompt: `review/${prompts.version}`,
    findings,
    dropped,
    truncated: notSent.length > 0,
    notSent,
    groups: groups.length,
    failedGroups,
  };
}

/** Answers' findings as our findings; one about a file or line that was not shown is dropped and counted. */
function checkedFindings(outcomes: GroupOutcome[]): { findings: Finding[]; dropped: number } {
  const byFingerprint = new Map<string, Finding>();
  let dropped = 0;
  for (const outcome of outcomes) {
    if (!outcome.ok) continue;
    const lineCounts = new Map(outcome.shown.map((file) => [file.path, linesOf(file.content).length]));
    for (const item of outcome.items) {
      const lines = lineCounts.get(item.path);
      if (lines === undefined || item.line > lines) {
        dropped++;
        continue;
      }
      const made = finding({
        ruleId: `llm/${item.ruleId}`,
        tool: 'llm',
        category: item.category,
        severity: item.severity,
        message: redactSecrets(stripControl(item.message)),
        location: { path: item.path, line: item.line },
        cwe: item.cwe ? [item.cwe] : undefined,
        remediation: item.remediation ? redactSecrets(stripControl(item.remediation)) : undefined,
      });
      byFingerprint.set(made.fingerprint, made); // the same finding twice in one answer counts once
    }
  }
  return { findings: [...byFingerprint.values()], dropped };
}

/**
 * The review as layer 1's `llm` check: findings a static check already made at the same place are
 * merged into it, and the note says who reviewed, what was dropped, merged or not sent.
 */
export async function llmReviewCheck(
  project: Project,
  reviewer: LlmReviewer | undefined,
  existing: Finding[],
  limits: ReviewLimits = REVIEW_LIMITS,
): Promise<
  { findings: Finding[]; version: string; note: string } | { status: 'skipped' | 'not_assessed'; reason: string }
> {
  const review = await runLlmReview(project, reviewer, limits);
  if (review.status !== 'completed') return review;
  const { findings, merged } = withoutStaticDuplicates(existing, review.findings);
  const unreviewed = review.failedGroups.flatMap((g) => g.files);
  const notes = [
    `reviewed by ${review.reviewer} (prompt ${review.prompt}) in ${review.groups} file group(s)`,
    `${review.dropped} finding(s) about non-existent files or lines dropped`,
    merged && `${merged} finding(s) already reported by a static check at the same place merged`,
    review.truncated
      ? `input truncated: ${review.notSent.length} file(s) too large not sent (${list(review.notSent)})`
      : 'input not truncated',
    review.failedGroups.length &&
      `${review.failedGroups.length} of ${review.groups} file group(s) not reviewed (${list(unreviewed)}): ${review.failedGroups[0]!.reason}`,
  ];
  return {
    findings,
    version: `${review.reviewer}, prompt ${review.prompt}`,
    note: notes.filter(Boolean).join('; '),
  };
}

const list = (paths: string[]) => (paths.length > 5 ? `${paths.slice(0, 5).join(', ')}, …` : paths.join(', '));

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// Control and bidirectional-override characters could disguise a message in a terminal or UI.
const stripControl = (text: string) =>
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  text.replace(/[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, ' ');
