import type { RequirementCoverage } from '../contracts/requirements';
import type {
  ComplianceReport,
  DynamicReport,
  Finding,
  FrameworkResult,
  LayerFailure,
  LayerState,
  StaticReport,
  Thresholds,
  TruncationNote,
  ValidationReport,
} from '../contracts/validation';
import { sandboxBrief } from './dynamic';
import { countBySeverity, sortFindings } from './findings';
import { scoreValidation } from './scoring';

/** What keeps a report bounded whatever the project produces; scores are computed before any cut. */
export interface ReportLimits {
  /** Findings kept per rule and per file, most severe first. */
  perRule: number;
  perFile: number;
  /** A finding's message beyond this is shortened. */
  messageChars: number;
  /** Evidence entries kept per compliance control. */
  evidencePerControl: number;
  /** The stored (pretty-printed) JSON's size; the least severe findings go first to meet it. */
  maxBytes: number;
}

export const REPORT_LIMITS: ReportLimits = {
  perRule: 100,
  perFile: 150,
  messageChars: 1_000,
  evidencePerControl: 50,
  maxBytes: 2 * 1024 * 1024,
};

export interface ReportInput {
  intentId: string;
  static: StaticReport | LayerFailure;
  compliance: ComplianceReport | LayerFailure;
  dynamic?: DynamicReport | LayerFailure;
  thresholds: Thresholds;
  /** The requirement coverage table; absent for plans without requirements. */
  coverage?: RequirementCoverage[];
  reportKeys: { static?: string; compliance?: string; dynamic?: string; sarif: string };
  generatedAt?: Date;
}

const layerState = (
  layer: StaticReport | ComplianceReport | DynamicReport | LayerFailure,
  reportKey?: string,
): LayerState =>
  'status' in layer
    ? { status: 'not_assessed', reason: layer.reason }
    : { status: 'assessed', ...(reportKey && { reportKey }) };

const shorten = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Findings within the per-rule and per-file caps, most severe first; the rest are returned as cut. */
export function capFindings(
  findings: Finding[],
  limits: Pick<ReportLimits, 'perRule' | 'perFile' | 'messageChars'> = REPORT_LIMITS,
): { kept: Finding[]; cut: Finding[] } {
  const perRule = new Map<string, number>();
  const perFile = new Map<string, number>();
  const kept: Finding[] = [];
  const cut: Finding[] = [];
  for (const item of sortFindings(findings)) {
    const file = item.location?.path ?? '(project)';
    const ruleCount = perRule.get(item.ruleId) ?? 0;
    const fileCount = perFile.get(file) ?? 0;
    if (ruleCount >= limits.perRule || fileCount >= limits.perFile) {
      cut.push(item);
      continue;
    }
    perRule.set(item.ruleId, ruleCount + 1);
    perFile.set(file, fileCount + 1);
    kept.push(
      item.message.length > limits.messageChars
        ? { ...item, message: shorten(item.message, limits.messageChars) }
        : item,
    );
  }
  return { kept, cut };
}

const MAX_NOTE_ENTRIES = 50;
const MAX_NOT_ASSESSED_LISTED = 500;

function tally(items: Finding[], keyOf: (item: Finding) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, MAX_NOTE_ENTRIES);
}

/** The note that says what was cut, so a reader knows the list is not everything. */
export function truncationNote(all: Finding[], cut: Finding[], reasons: string[]): TruncationNote {
  return {
    findingsTotal: all.length,
    counts: countBySeverity(all),
    findingsCut: cut.length,
    byRule: tally(cut, (item) => item.ruleId).map(([ruleId, count]) => ({ ruleId, cut: count })),
    byFile: tally(cut, (item) => item.location?.path ?? '(project)').map(([path, count]) => ({ path, cut: count })),
    reasons,
  };
}

/**
 * Builds a value from the first `keep` findings, shrinking `keep` until its pretty-printed JSON fits
 * `maxBytes` (or nothing is left to drop): the least severe findings go first.
 */
export function fitToSize<T>(
  findings: Finding[],
  maxBytes: number,
  build: (kept: Finding[], dropped: Finding[]) => T,
): { value: T; kept: Finding[]; dropped: Finding[] } {
  let keep = findings.length;
  for (;;) {
    const kept = findings.slice(0, keep);
    const dropped = findings.slice(keep);
    const value = build(kept, dropped);
    const bytes = Buffer.byteLength(JSON.stringify(value, null, 2));
    if (bytes <= maxBytes || keep === 0) return { value, kept, dropped };
    keep = Math.min(keep - 1, Math.floor(keep * (maxBytes / bytes) * 0.95));
    keep = Math.max(0, keep);
  }
}

function capEvidence(
  frameworks: FrameworkResult[],
  perControl: number,
): { frameworks: FrameworkResult[]; cut: number } {
  let cut = 0;
  const capped = frameworks.map((fw) => ({
    ...fw,
    controls: fw.controls.map((control) => {
      if (control.evidence.length <= perControl) return control;
      cut += control.evidence.length - perControl;
      return { ...control, evidence: control.evidence.slice(0, perControl) };
    }),
  }));
  return { frameworks: capped, cut };
}

/**
 * Caps a report's findings per rule and per file, its compliance evidence per control, and its size;
 * `truncated` records what was cut. Scores, verdict and recommendations are left as computed from everything.
 */
export function boundReport(report: ValidationReport, limits: ReportLimits = REPORT_LIMITS): ValidationReport {
  const all = report.findings;
  const { kept, cut } = capFindings(all, limits);
  const evidence = capEvidence(report.frameworks, limits.evidencePerControl);
  const unassessed = report.notAssessedFiles ?? [];
  const capReasons = [
    ...(cut.length ? [`at most ${limits.perRule} findings per rule and ${limits.perFile} per file are listed`] : []),
    ...(unassessed.length > MAX_NOT_ASSESSED_LISTED
      ? [
          `${unassessed.length - MAX_NOT_ASSESSED_LISTED} more files not assessed beyond the ${MAX_NOT_ASSESSED_LISTED} listed`,
        ]
      : []),
    ...(evidence.cut
      ? [`${evidence.cut} compliance evidence entries cut (at most ${limits.evidencePerControl} per control)`]
      : []),
  ];
  const build = (listed: Finding[], dropped: Finding[]): ValidationReport => {
    const removed = [...cut, ...dropped];
    const reasons = dropped.length
      ? [
          ...capReasons,
          `${dropped.length} more of the least severe findings cut to keep the report under ${limits.maxBytes} bytes`,
        ]
      : capReasons;
    const { truncated: _previous, sarifKey, ...rest } = report;
    return {
      ...rest,
      ...(unassessed.length > MAX_NOT_ASSESSED_LISTED && {
        notAssessedFiles: unassessed.slice(0, MAX_NOT_ASSESSED_LISTED),
      }),
      frameworks: evidence.frameworks,
      findings: listed,
      ...(reasons.length && { truncated: truncationNote(all, removed, reasons) }),
      sarifKey,
    };
  };
  return fitToSize(kept, limits.maxBytes, build).value;
}

/** The combined validation report: scores with their explanations, verdict, recommendations and every finding. */
export function buildValidationReport(input: ReportInput, limits: ReportLimits = REPORT_LIMITS): ValidationReport {
  const notAssessedFiles = 'layer' in input.static ? (input.static.notAssessedFiles ?? []) : [];
  const result = scoreValidation({
    static: input.static,
    compliance: input.compliance,
    dynamic: input.dynamic,
    thresholds: input.thresholds,
    coverage: input.coverage,
  });
  const report: ValidationReport = {
    schemaVersion: 1,
    intentId: input.intentId,
    generatedAt: (input.generatedAt ?? new Date()).toISOString(),
    verdict: result.verdict,
    scores: result.scores,
    explanations: result.explanations,
    thresholds: input.thresholds,
    layers: {
      static: layerState(input.static, input.reportKeys.static),
      compliance: layerState(input.compliance, input.reportKeys.compliance),
      ...(input.dynamic && { dynamic: layerState(input.dynamic, input.reportKeys.dynamic) }),
    },
    ...(input.dynamic && 'layer' in input.dynamic && { sandbox: sandboxBrief(input.dynamic.run) }),
    checks: 'checks' in input.static ? input.static.checks : [],
    frameworks: 'frameworks' in input.compliance ? input.compliance.frameworks : [],
    ...(input.coverage && { requirements: input.coverage }),
    recommendations: result.recommendations,
    findings: sortFindings(result.findings),
    ...(notAssessedFiles.length > 0 && { notAssessedFiles }),
    sarifKey: input.reportKeys.sarif,
  };
  return boundReport(report, limits);
}
