import { z } from 'zod';
import type { ArtifactRef } from './artifacts';
import type { Plan } from './plan';
import { RequirementCoverage } from './requirements';
import type { LlmUsage } from './usage';
import {
  Scores,
  Severity,
  SeverityCounts,
  TypecheckSummary,
  VerdictStatus,
  type ValidationSummary,
} from './validation';

// QuantumDrop: the review bundle a gate shows before anyone decides (docs/quantum-drops.md). The
// buildDrop activity stores it as JSON and as one self-contained HTML page; the API and `qlp review` serve it.

export const DROP_GATES = ['release'] as const;
export const DropGate = z.enum(DROP_GATES, { error: "must be 'release' (the gate before packaging)" });
export type DropGate = z.infer<typeof DropGate>;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (sha256)');

/** One file that differs from the previous version: its unified diff, bounded (see `truncated`). */
export const DropChange = z.object({
  path: z.string(),
  status: z.enum(['added', 'modified', 'removed']),
  /** sha256 of the file in the previous version (null when added) and in this one (null when removed). */
  before: hex64.nullable(),
  after: hex64.nullable(),
  /** Lines added and removed; null when no diff was computed (binary, too large, too many changes). */
  additions: z.number().int().nullable(),
  deletions: z.number().int().nullable(),
  /** The unified diff (`--- a/<path>`, `+++ b/<path>`, hunks with 3 lines of context); empty when not shown. */
  diff: z.string(),
  /** The diff was cut to the drop's bounds: how many of its lines are not shown, and why. */
  truncated: z.object({ omittedLines: z.number().int(), reason: z.string() }).optional(),
  /** Not text (NUL bytes or not UTF-8): only the digests are shown. */
  binary: z.literal(true).optional(),
  /** Why a text file has no diff: too large to diff, or too many changed lines to diff within the bounds. */
  notAssessed: z.string().optional(),
});
export type DropChange = z.infer<typeof DropChange>;

export const DropChangeSummary = z.object({
  /** Files in this version. */
  files: z.number().int(),
  added: z.number().int(),
  modified: z.number().int(),
  removed: z.number().int(),
  unchanged: z.number().int(),
  /** Lines added and removed over the files that were diffed. */
  additions: z.number().int(),
  deletions: z.number().int(),
  /** What the bounds left out, in words (empty when every diff is whole). */
  cut: z.array(z.string()),
});
export type DropChangeSummary = z.infer<typeof DropChangeSummary>;

/** A finding as the reviewer needs it: what, how bad, where (file:line). */
export const DropFinding = z.object({
  ruleId: z.string(),
  tool: z.string(),
  severity: Severity,
  path: z.string().nullable(),
  line: z.number().int().nullable(),
  message: z.string(),
});
export type DropFinding = z.infer<typeof DropFinding>;

/** The project's own tests in the sandbox (layer 2), or why they did not run. */
export const DropTests = z.object({
  status: z.enum(['ran', 'not_run']),
  reason: z.string().optional(),
  passed: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  /** The first failures (name and output excerpt); `failures` beyond them are counted in `failed`. */
  failures: z.array(z.object({ name: z.string(), message: z.string() })),
});
export type DropTests = z.infer<typeof DropTests>;

export const DropValidation = z.object({
  verdict: VerdictStatus,
  reasons: z.array(z.string()),
  scores: Scores,
  /** Findings by severity, before any cut (null when validation produced no report). */
  counts: SeverityCounts.nullable(),
  typecheck: TypecheckSummary.pick({ status: true, errorCount: true, firstErrors: true }),
  /** The most severe findings, most severe first; `findingsTotal` counts them all. */
  findings: z.array(DropFinding),
  findingsTotal: z.number().int(),
  tests: DropTests,
  /** The report's requirement coverage table (null for plans without requirements). */
  coverage: z.array(RequirementCoverage).nullable(),
  /** S3 keys of the whole reports (null when absent). */
  reportKey: z.string().nullable(),
  dynamicReportKey: z.string().nullable(),
});
export type DropValidation = z.infer<typeof DropValidation>;

/** What the intent's LLM calls cost up to the gate. */
export const DropCost = z.object({
  calls: z.number().int(),
  cachedCalls: z.number().int(),
  tokens: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  /** null when a model had no known price (tokens are still counted). */
  costUsd: z.number().nullable(),
  /** The deterministic offline catalogue answered: no LLM, nothing spent. */
  offline: z.boolean(),
});
export type DropCost = z.infer<typeof DropCost>;

/** An earlier intent of the tenant like this one (docs/similar-intents.md): what it became, who approved it. */
export const DropSimilar = z.object({
  intentId: z.string(),
  text: z.string(),
  /** Cosine similarity of the embeddings, 0–1. */
  similarity: z.number(),
  status: z.string(),
  overall: z.number().nullable(),
  capsuleId: z.string().nullable(),
  approvers: z.array(z.string()),
});
export type DropSimilar = z.infer<typeof DropSimilar>;

/** `intents/<id>/drops/<gate>-v<version>.json`: deterministic (workflow time, sorted paths), so a retry writes the same bytes. */
export const QuantumDrop = z.object({
  schemaVersion: z.literal(1),
  intentId: z.string(),
  gate: DropGate,
  /** The version under review (1, then 2 … after each request for changes). */
  version: z.number().int().min(1),
  /** The version the diffs are against; null for version 1 (every file added). */
  previousVersion: z.number().int().min(1).nullable(),
  /** Workflow time. */
  createdAt: z.iso.datetime(),
  /** The review digest approvers sign (gate.digest), when validation computed one. */
  reviewDigest: hex64.nullable(),
  plan: z.object({
    planner: z.string(),
    projectName: z.string(),
    tasks: z.array(z.object({ id: z.string(), type: z.string(), description: z.string() })),
  }),
  changes: z.array(DropChange),
  changeSummary: DropChangeSummary,
  validation: DropValidation,
  /** null when the workflow passed no usage. */
  cost: DropCost.nullable(),
  /** Similar earlier intents of the tenant (absent in drops built before similar intents existed). */
  similar: z.array(DropSimilar).optional(),
});
export type QuantumDrop = z.infer<typeof QuantumDrop>;

/** What the workflow keeps of a stored drop (GateState.drop): its JSON key and sha256; the HTML sits next to it. */
export const DropRef = z.object({
  key: z.string(),
  sha256: hex64,
  version: z.number().int().min(1),
  gate: DropGate,
});
export type DropRef = z.infer<typeof DropRef>;

/** `GET /intents/:id/drops/:gate`: the stored drop and where to read it as a page. */
export const QuantumDropView = QuantumDrop.extend({
  links: z.object({ self: z.string(), html: z.string() }),
});
export type QuantumDropView = z.infer<typeof QuantumDropView>;

export const DropQuery = z.strictObject({
  format: z.enum(['json', 'html'], { error: "must be 'json' or 'html'" }).optional(),
});

/** The buildDrop activity's input: references only (the files and reports are read from S3). */
export interface BuildDropInput {
  intentId: string;
  gate: DropGate;
  version: number;
  /** Workflow time: the activity never reads the clock, so the drop is deterministic. */
  createdAt: string;
  plan: Plan;
  artifacts: ArtifactRef[];
  /** The previous version's artifacts (absent for version 1: every file is added). */
  previousArtifacts?: ArtifactRef[];
  validation: ValidationSummary;
  /** The intent's LLM usage so far. */
  usage?: LlmUsage;
}
