import type {
  BuildDropInput,
  DropCost,
  DropFinding,
  DropSimilar,
  DropTests,
  DropValidation,
  QuantumDrop,
} from '../../contracts/drop';
import type { LlmUsage } from '../../contracts/usage';
import { severities, type DynamicReport, type Finding, type ValidationReport } from '../../contracts/validation';
import { diffVersions, type DropFile } from './diff';
import { DROP_LIMITS, type DropLimits } from './limits';
import { renderDropHtml } from './render-html';

// The QuantumDrop document from what the gate has: the plan, both versions' files, the validation
// report and layer 2's run, the usage. Pure: the same inputs give the same bytes.

export type DropContext = Omit<BuildDropInput, 'artifacts' | 'previousArtifacts'>;

export interface DropSources {
  current: DropFile[];
  /** The previous version's files; undefined for version 1 (every file added). */
  previous?: DropFile[];
  /** The stored validation report (intents/<id>/reports/validation-report.json), when validation made one. */
  report?: ValidationReport;
  /** Layer 2's report, when it ran. */
  dynamic?: DynamicReport;
  /** Similar earlier intents of the tenant, most similar first (read model). */
  similar?: DropSimilar[];
}

const cap = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const rank = (finding: Finding) => severities.indexOf(finding.severity);

const order = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

/** Most severe first; then by place, rule and message (code-unit order, the same on every machine). */
function compareFindings(a: Finding, b: Finding): number {
  return (
    rank(a) - rank(b) ||
    order(a.location?.path ?? '', b.location?.path ?? '') ||
    order(a.location?.line ?? 0, b.location?.line ?? 0) ||
    order(a.ruleId, b.ruleId) ||
    order(a.message, b.message)
  );
}

function topFindings(findings: Finding[], limits: DropLimits): DropFinding[] {
  return [...findings]
    .sort(compareFindings)
    .slice(0, limits.findings)
    .map((f) => ({
      ruleId: f.ruleId,
      tool: f.tool,
      severity: f.severity,
      path: f.location?.path ?? null,
      line: f.location?.line ?? null,
      message: cap(f.message, limits.messageChars),
    }));
}

function testsOf(context: DropContext, dynamic: DynamicReport | undefined, limits: DropLimits): DropTests {
  const layer = context.validation.dynamic;
  if (!dynamic) {
    const reason = layer?.status === 'not_assessed' ? layer.reason : 'the sandbox run (layer 2) did not take place';
    return { status: 'not_run', reason, passed: 0, failed: 0, skipped: 0, failures: [] };
  }
  const { tests } = dynamic.run;
  return {
    status: 'ran',
    passed: tests.passed,
    failed: tests.failed,
    skipped: tests.skipped,
    failures: tests.failures
      .slice(0, limits.testFailures)
      .map((f) => ({ name: cap(f.name, limits.messageChars), message: cap(f.excerpt, limits.messageChars) })),
  };
}

function validationOf(context: DropContext, sources: DropSources, limits: DropLimits): DropValidation {
  const { score, typecheck, dynamic } = context.validation;
  const { report } = sources;
  return {
    verdict: report?.verdict.status ?? score?.verdict ?? 'not_assessed',
    reasons: report?.verdict.reasons ?? score?.reasons ?? ['validation produced no report'],
    scores: report?.scores ?? score?.scores ?? { overall: null, security: null, quality: null, compliance: null },
    counts: score?.counts ?? report?.truncated?.counts ?? null,
    typecheck: { status: typecheck.status, errorCount: typecheck.errorCount, firstErrors: typecheck.firstErrors },
    findings: topFindings(report?.findings ?? [], limits),
    findingsTotal: report?.truncated?.findingsTotal ?? report?.findings.length ?? 0,
    tests: testsOf(context, sources.dynamic, limits),
    coverage:
      report?.requirements?.map((r) => ({
        ...r,
        evidence: r.evidence.slice(0, limits.coverageDetails),
        tests: r.tests.slice(0, limits.coverageDetails),
      })) ?? null,
    reportKey: score?.reportKey ?? null,
    dynamicReportKey: dynamic?.status === 'assessed' ? dynamic.reportKey : null,
  };
}

function costOf(usage: LlmUsage | undefined): DropCost | null {
  if (!usage) return null;
  return {
    calls: usage.calls,
    cachedCalls: usage.cachedCalls,
    tokens: usage.promptTokens + usage.completionTokens,
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    costUsd: usage.costUsd,
    offline: usage.offline,
  };
}

export async function buildQuantumDrop(
  context: DropContext,
  sources: DropSources,
  limits: DropLimits = DROP_LIMITS,
): Promise<QuantumDrop> {
  const { changes, summary } = await diffVersions(sources.previous ?? [], sources.current, limits);
  return {
    schemaVersion: 1,
    intentId: context.intentId,
    gate: context.gate,
    version: context.version,
    previousVersion: sources.previous && context.version > 1 ? context.version - 1 : null,
    createdAt: context.createdAt,
    reviewDigest: context.validation.score?.digest?.review ?? null,
    plan: {
      planner: context.plan.planner,
      projectName: context.plan.projectName,
      tasks: context.plan.tasks.map((t) => ({ id: t.id, type: t.type, description: t.description })),
    },
    changes,
    changeSummary: summary,
    validation: validationOf(context, sources, limits),
    cost: costOf(context.usage),
    ...(sources.similar?.length ? { similar: sources.similar } : {}),
  };
}

/** The stored documents: the JSON (2-space indented, newline-terminated) and the HTML page. */
export function dropDocuments(drop: QuantumDrop): { json: Buffer; html: Buffer } {
  return { json: Buffer.from(`${JSON.stringify(drop, null, 2)}\n`), html: Buffer.from(renderDropHtml(drop)) };
}
