import { z } from 'zod';
import { Capability, CoverageSummary, RequirementCoverage } from './requirements';
import { LimitKind, SandboxDriverName, SandboxRunResult } from './sandbox';

// Validation reports (layer 1 static review, layer 3 compliance, scores) as zod schemas: the reports
// stored in S3, the small summaries activities return, and what the API shows.

/** The compliance frameworks with built-in rule packs. */
export const builtInFrameworks = ['SOC2', 'GDPR', 'HIPAA', 'ISO27001'] as const;
export type BuiltInFramework = (typeof builtInFrameworks)[number];

export const severities = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const Severity = z.enum(severities);
export type Severity = z.infer<typeof Severity>;

export const tools = [
  'typescript',
  'eslint',
  'secrets',
  'semgrep',
  'dataflow',
  'dependencies',
  'llm',
  'compliance',
  'sandbox',
  'coverage',
  'artifacts',
  'content',
  'suppressions',
] as const;
export const ToolId = z.enum(tools);
export type ToolId = z.infer<typeof ToolId>;

export const Location = z.object({
  path: z.string(),
  line: z.number().int().min(1),
  column: z.number().int().min(1).optional(),
});
export type Location = z.infer<typeof Location>;

/** One problem found in the generated project. Messages never contain a secret's value. */
export const Finding = z.object({
  /** Stable across runs for the same rule, place and message; SARIF partial fingerprint. */
  fingerprint: z.string(),
  ruleId: z.string(),
  tool: ToolId,
  category: z.enum(['security', 'quality']),
  severity: Severity,
  message: z.string(),
  location: Location.optional(),
  cwe: z.array(z.string()).optional(),
  remediation: z.string().optional(),
  /** Compliance findings: the controls they fail, e.g. `SOC2 CC6.7`. */
  controls: z.array(z.string()).optional(),
});
export type Finding = z.infer<typeof Finding>;

/** `not_assessed`: the check could not run (never read as clean); `skipped`: switched off by configuration. */
export const CheckStatus = z.enum(['passed', 'failed', 'not_assessed', 'skipped']);
export type CheckStatus = z.infer<typeof CheckStatus>;

export const CheckResult = z.object({
  tool: ToolId,
  status: CheckStatus,
  reason: z.string().optional(),
  findingCount: z.number().int(),
  durationMs: z.number(),
  version: z.string().optional(),
});
export type CheckResult = z.infer<typeof CheckResult>;

export const SeverityCounts = z.object({
  critical: z.number().int(),
  high: z.number().int(),
  medium: z.number().int(),
  low: z.number().int(),
  info: z.number().int(),
});
export type SeverityCounts = z.infer<typeof SeverityCounts>;

/** A file a check could not judge (unknown type, parse error, tool missing): never read as clean, it prevents `passed`. */
export const NotAssessedFile = z.object({ path: z.string(), tool: ToolId, reason: z.string() });
export type NotAssessedFile = z.infer<typeof NotAssessedFile>;

/** What a size-bounded report left out: per rule and file, how many findings were cut (the most severe are kept). */
export const TruncationNote = z.object({
  /** Every finding before the cut, and by severity: what the scores counted. */
  findingsTotal: z.number().int(),
  counts: SeverityCounts,
  findingsCut: z.number().int(),
  byRule: z.array(z.object({ ruleId: z.string(), cut: z.number().int() })),
  byFile: z.array(z.object({ path: z.string(), cut: z.number().int() })),
  reasons: z.array(z.string()),
});
export type TruncationNote = z.infer<typeof TruncationNote>;

export const StaticReport = z.object({
  schemaVersion: z.literal(1),
  layer: z.literal('static'),
  intentId: z.string(),
  generatedAt: z.iso.datetime(),
  filesReviewed: z.number().int(),
  checks: z.array(CheckResult),
  findings: z.array(Finding),
  /** Files no check could assess (absent in reports made before it existed). */
  notAssessedFiles: z.array(NotAssessedFile).optional(),
});
export type StaticReport = z.infer<typeof StaticReport>;

export const ControlStatus = z.enum(['pass', 'fail', 'not_applicable', 'not_assessed']);
export type ControlStatus = z.infer<typeof ControlStatus>;

export const Evidence = z.object({ ruleId: z.string(), path: z.string(), line: z.number().int(), message: z.string() });
export type Evidence = z.infer<typeof Evidence>;

export const ControlResult = z.object({
  id: z.string(),
  title: z.string(),
  status: ControlStatus,
  /**
   * Its weight in the compliance score: the most severe of the rules that failed (a failed control), or
   * of those that applied (a passed one).
   */
  severity: Severity,
  rules: z.array(z.string()),
  evidence: z.array(Evidence),
  reason: z.string().optional(),
  /**
   * Capabilities the control requires a project claiming the framework to implement, and what was found
   * (present only for frameworks the intent claims).
   */
  required: z
    .array(
      z.object({
        capability: Capability,
        status: z.enum(['pass', 'fail', 'not_applicable']),
        reason: z.string(),
      }),
    )
    .optional(),
});
export type ControlResult = z.infer<typeof ControlResult>;

export const NotCovered = z.object({ id: z.string(), title: z.string(), reason: z.string() });
export type NotCovered = z.infer<typeof NotCovered>;

export const FrameworkResult = z.object({
  framework: z.string(),
  name: z.string(),
  version: z.string(),
  /** The intent claims this framework: its required controls were checked for presence. */
  claimed: z.boolean().optional(),
  status: z.enum(['pass', 'fail', 'not_assessed']),
  counts: z.object({
    pass: z.number().int(),
    fail: z.number().int(),
    notApplicable: z.number().int(),
    notAssessed: z.number().int(),
  }),
  controls: z.array(ControlResult),
  /** Controls of the framework that no rule checks: organisational, physical or beyond code. */
  notCovered: z.array(NotCovered),
});
export type FrameworkResult = z.infer<typeof FrameworkResult>;

export const CustomRulesStatus = z.object({
  status: z.enum(['none', 'loaded', 'invalid']),
  count: z.number().int(),
  errors: z.array(z.string()),
});
export type CustomRulesStatus = z.infer<typeof CustomRulesStatus>;

export const ComplianceReport = z.object({
  schemaVersion: z.literal(1),
  layer: z.literal('compliance'),
  intentId: z.string(),
  generatedAt: z.iso.datetime(),
  frameworks: z.array(FrameworkResult),
  findings: z.array(Finding),
  /** Checks that threw: their rules are `not_assessed`, never passed. */
  checkErrors: z.array(z.object({ check: z.string(), reason: z.string() })),
  customRules: CustomRulesStatus,
});
export type ComplianceReport = z.infer<typeof ComplianceReport>;

export const Thresholds = z.object({
  /** Minimum overall score for the verdict `passed`. */
  minConfidenceScore: z.number().min(0).max(100),
  securityThreshold: z.number().min(0).max(100),
  qualityThreshold: z.number().min(0).max(100),
  complianceThreshold: z.number().min(0).max(100),
});
export type Thresholds = z.infer<typeof Thresholds>;

export const Scores = z.object({
  overall: z.number().int().min(0).max(100).nullable(),
  security: z.number().int().min(0).max(100).nullable(),
  quality: z.number().int().min(0).max(100).nullable(),
  compliance: z.number().int().min(0).max(100).nullable(),
});
export type Scores = z.infer<typeof Scores>;

export const Deduction = z.object({
  ruleId: z.string(),
  severity: Severity,
  count: z.number().int(),
  points: z.number(),
});

/** How one score came about, so a reviewer can recompute it by hand. */
export const ScoreExplanation = z.object({
  score: z.number().int().nullable(),
  formula: z.string(),
  deductions: z.array(Deduction),
  cap: z.object({ value: z.number(), reason: z.string() }).optional(),
  notAssessed: z.array(z.string()),
});
export type ScoreExplanation = z.infer<typeof ScoreExplanation>;

export const Recommendation = z.object({
  priority: z.number().int().min(1),
  severity: Severity,
  ruleId: z.string(),
  title: z.string(),
  remediation: z.string(),
  occurrences: z.number().int(),
  locations: z.array(z.string()),
  controls: z.array(z.string()),
});
export type Recommendation = z.infer<typeof Recommendation>;

export const VerdictStatus = z.enum(['passed', 'failed', 'not_assessed']);
export type VerdictStatus = z.infer<typeof VerdictStatus>;

export const LayerState = z.object({
  status: z.enum(['assessed', 'not_assessed']),
  reason: z.string().optional(),
  reportKey: z.string().optional(),
});
export type LayerState = z.infer<typeof LayerState>;

/** Layer 2's run in brief: where it ran, what the tests said, which limits stopped it. */
export const SandboxBrief = z.object({
  driver: SandboxDriverName,
  outcome: z.enum(['passed', 'failed']),
  tests: z.object({ passed: z.number().int(), failed: z.number().int(), skipped: z.number().int() }),
  limitHits: z.array(LimitKind),
  durationMs: z.number(),
});
export type SandboxBrief = z.infer<typeof SandboxBrief>;

/** The combined report: `intents/<id>/reports/validation-report.json`. */
export const ValidationReport = z.object({
  schemaVersion: z.literal(1),
  intentId: z.string(),
  generatedAt: z.iso.datetime(),
  verdict: z.object({ status: VerdictStatus, reasons: z.array(z.string()) }),
  scores: Scores,
  explanations: z.object({
    overall: ScoreExplanation,
    security: ScoreExplanation,
    quality: ScoreExplanation,
    compliance: ScoreExplanation,
  }),
  thresholds: Thresholds,
  /** `dynamic` is absent for intents validated before layer 2 existed. */
  layers: z.object({ static: LayerState, compliance: LayerState, dynamic: LayerState.optional() }),
  /** Layer 2's run in brief (absent when it did not run); the whole run is in its own report. */
  sandbox: SandboxBrief.optional(),
  checks: z.array(CheckResult),
  frameworks: z.array(FrameworkResult),
  /**
   * The coverage table: each requirement of the plan with its status (covered = code evidence and a test
   * that exercised it and passed), evidence and tests. Absent for plans without requirements.
   */
  requirements: z.array(RequirementCoverage).optional(),
  recommendations: z.array(Recommendation),
  findings: z.array(Finding),
  /** Files no check could assess; any prevents `passed` (absent in older reports). */
  notAssessedFiles: z.array(NotAssessedFile).optional(),
  /** Findings left out to keep the report bounded, per rule (absent when nothing was cut). */
  truncated: TruncationNote.optional(),
  sarifKey: z.string(),
});
export type ValidationReport = z.infer<typeof ValidationReport>;

// What the activities return: small, so workflow histories carry summaries and report keys only.

export const LayerFailure = z.object({ status: z.literal('not_assessed'), reason: z.string() });
export type LayerFailure = z.infer<typeof LayerFailure>;

export const StaticReviewSummary = z.object({
  status: z.literal('assessed'),
  reportKey: z.string(),
  filesReviewed: z.number().int(),
  counts: SeverityCounts,
  checks: z.array(CheckResult.pick({ tool: true, status: true, reason: true, findingCount: true })),
  /** What layer 1's LLM review used (absent offline and in older intents): the workflow adds it to the intent's usage. */
  llmUsage: z
    .object({
      calls: z.number().int(),
      cachedCalls: z.number().int(),
      promptTokens: z.number().int(),
      completionTokens: z.number().int(),
      costUsd: z.number().nullable(),
      cached: z.boolean(),
      offline: z.boolean(),
    })
    .optional(),
});
export type StaticReviewSummary = z.infer<typeof StaticReviewSummary>;

export const ComplianceSummary = z.object({
  status: z.literal('assessed'),
  reportKey: z.string(),
  frameworks: z.array(
    FrameworkResult.pick({ framework: true, status: true, counts: true }).extend({ notCovered: z.number().int() }),
  ),
  /** First failing controls, e.g. `HIPAA 164.312(e)(1)`; the full list is in the report. */
  failedControls: z.array(z.string()),
  customRules: CustomRulesStatus.pick({ status: true, count: true }),
});
export type ComplianceSummary = z.infer<typeof ComplianceSummary>;

export const ValidationScoreSummary = z.object({
  verdict: VerdictStatus,
  reasons: z.array(z.string()),
  scores: Scores,
  counts: SeverityCounts,
  reportKey: z.string(),
  sarifKey: z.string(),
  /** Titles of the highest-priority recommendations, for the gate and the Web UI. */
  topRecommendations: z.array(z.string()),
  /** Requirement coverage in brief: counts, every status, and what was asked for but not built. */
  coverage: CoverageSummary.optional(),
  /** What approvers sign (absent in intents validated before approvals were bound to content). */
  digest: z
    .object({
      /** sha256 over every file to be packaged (path and sha256, in path order). */
      files: z.string(),
      /** sha256 of the stored validation report. */
      report: z.string(),
      /** The two together: the gate's digest. */
      review: z.string(),
    })
    .optional(),
});
export type ValidationScoreSummary = z.infer<typeof ValidationScoreSummary>;

/** Layer 2: the project installed, compiled and tested in a sandbox: `intents/<id>/reports/dynamic.json`. */
export const DynamicReport = z.object({
  schemaVersion: z.literal(1),
  layer: z.literal('dynamic'),
  intentId: z.string(),
  generatedAt: z.iso.datetime(),
  outcome: z.enum(['passed', 'failed']),
  run: SandboxRunResult,
  findings: z.array(Finding),
});
export type DynamicReport = z.infer<typeof DynamicReport>;

export const DynamicSummary = SandboxBrief.extend({
  status: z.literal('assessed'),
  reportKey: z.string(),
  /** First failing tests or steps, for a human at the gate; the full list is in the report. */
  problems: z.array(z.string()),
  startupMs: z.number(),
});
export type DynamicSummary = z.infer<typeof DynamicSummary>;

/** Layer 0: the whole project type-checked once; its first diagnostics are for a human at the gate. */
export const TypecheckSummary = z.object({
  status: z.enum(['passed', 'failed', 'not_assessed']),
  filesChecked: z.number().int(),
  errorCount: z.number().int(),
  /** First diagnostics, for a human at the gate; the full list is in the report. */
  firstErrors: z.array(z.string()),
});
export type TypecheckSummary = z.infer<typeof TypecheckSummary>;

/** One round of the agents' repair loop: what failed, which tasks re-ran, and the verdict after it. */
export const RepairRound = z.object({
  round: z.number().int().min(1),
  /** The failures the agents were given, in brief. */
  failures: z.array(z.string()),
  tasks: z.array(z.string()),
  /** The verdict after the round's validation (`failed`, `passed`, …), or why the round stopped early. */
  verdict: z.string(),
});
export type RepairRound = z.infer<typeof RepairRound>;

/** What validation hands the gate: every layer's summary (or why it could not run) and the scores. */
export const ValidationSummary = z.object({
  typecheck: TypecheckSummary,
  reportKey: z.string(),
  /** Layer 1 (static review) and layer 3 (compliance): a summary, or why the layer could not run. */
  static: z.union([StaticReviewSummary, LayerFailure]).optional(),
  compliance: z.union([ComplianceSummary, LayerFailure]).optional(),
  /** Layer 2 (build and tests in the sandbox): a summary, or why it could not run. */
  dynamic: z.union([DynamicSummary, LayerFailure]).optional().describe('layer 2: build and tests in the sandbox'),
  /** Scores 0–100, verdict and the keys of the JSON report and SARIF. */
  score: ValidationScoreSummary.optional(),
  /** The agents' repair rounds before this validation (absent when none ran). */
  repairRounds: z.array(RepairRound).optional(),
});
export type ValidationSummary = z.infer<typeof ValidationSummary>;
