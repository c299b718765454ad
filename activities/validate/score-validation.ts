import { filesDigest, loadFiles, reportKeys, reviewDigest, sha256 } from '../../adapters/storage/artifacts';
import type { ArtifactRef } from '../../contracts/artifacts';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { Plan } from '../../contracts/plan';
import type { Capability } from '../../contracts/requirements';
import {
  ComplianceReport,
  DynamicReport,
  StaticReport,
  type ComplianceSummary,
  type DynamicSummary,
  type LayerFailure,
  type StaticReviewSummary,
  type Thresholds,
  type ValidationScoreSummary,
} from '../../contracts/validation';
import { coverageFindings, coverageSummary, type CoverageInput } from '../../validation/coverage/analyse';
import { countBySeverity } from '../../validation/findings';
import { buildValidationReport } from '../../validation/report';
import { toSarif } from '../../validation/sarif';
import { DEFAULT_THRESHOLDS } from '../../validation/scoring';
import { INLINE, requirementCoverage, type ValidationPool } from './analysis';
import { loadPlan, toProject } from './load-project';

export interface ScoreValidationInput {
  intentId: string;
  /** The static review's summary, or why it could not run (the workflow catches the activity's failure). */
  static: StaticReviewSummary | LayerFailure;
  compliance: ComplianceSummary | LayerFailure;
  /** Layer 2; absent for intents started before it existed. */
  dynamic?: DynamicSummary | LayerFailure;
  /** Fixed at submission, like the rest of the intent's policy. */
  thresholds?: Partial<Thresholds>;
  /** The files to be packaged, digested with the report for the gate (absent in older intents: no digest). */
  artifacts?: ArtifactRef[];
}

const MAX_TOP_RECOMMENDATIONS = 3;

/**
 * Combines the layers into scores, a verdict and recommendations, with the plan's requirements traced to
 * the code and the tests that ran (requirement coverage); stores the JSON report and SARIF.
 */
export async function scoreValidation(
  store: ObjectStore,
  input: ScoreValidationInput,
  pool: ValidationPool = INLINE,
): Promise<ValidationScoreSummary> {
  const keys = reportKeys(input.intentId);
  const staticReport =
    input.static.status === 'assessed' ? StaticReport.parse(await store.getJson(input.static.reportKey)) : input.static;
  const complianceReport =
    input.compliance.status === 'assessed'
      ? ComplianceReport.parse(await store.getJson(input.compliance.reportKey))
      : input.compliance;
  const dynamicReport =
    input.dynamic?.status === 'assessed'
      ? DynamicReport.parse(await store.getJson(input.dynamic.reportKey))
      : input.dynamic;
  const thresholds = { ...DEFAULT_THRESHOLDS, ...input.thresholds };
  const projectFiles = input.artifacts && (await loadFiles(store, input.artifacts));
  const plan = await loadPlan(store, input.intentId);
  const coverage =
    plan?.requirements?.length && projectFiles
      ? await requirementCoverage(pool, coverageInput(plan, projectFiles, complianceReport, dynamicReport))
      : undefined;

  const report = buildValidationReport({
    intentId: input.intentId,
    static: staticReport,
    compliance: complianceReport,
    dynamic: dynamicReport,
    thresholds,
    coverage,
    reportKeys: {
      static: input.static.status === 'assessed' ? input.static.reportKey : undefined,
      compliance: input.compliance.status === 'assessed' ? input.compliance.reportKey : undefined,
      dynamic: input.dynamic?.status === 'assessed' ? input.dynamic.reportKey : undefined,
      sarif: keys.sarif,
    },
  });
  const sarif = toSarif({
    static: 'layer' in staticReport ? staticReport : undefined,
    compliance: 'layer' in complianceReport ? complianceReport : undefined,
    dynamic: dynamicReport && 'layer' in dynamicReport ? dynamicReport : undefined,
    ...(coverage && { coverage: { findings: coverageFindings(coverage), requirements: coverage } }),
    notAssessed: [
      ...(dynamicReport && !('layer' in dynamicReport)
        ? [{ layer: 'dynamic' as const, reason: dynamicReport.reason }]
        : []),
      ...('layer' in staticReport ? [] : [{ layer: 'static' as const, reason: staticReport.reason }]),
      ...('layer' in complianceReport ? [] : [{ layer: 'compliance' as const, reason: complianceReport.reason }]),
    ],
  });
  await store.put(keys.sarif, JSON.stringify(sarif, null, 2), { 'Content-Type': 'application/sarif+json' });
  const reportJson = JSON.stringify(report, null, 2);
  await store.put(keys.validation, reportJson, { 'Content-Type': 'application/json' });
  const files = projectFiles && filesDigest(projectFiles);
  const reportSha = sha256(Buffer.from(reportJson));
  return {
    verdict: report.verdict.status,
    reasons: report.verdict.reasons.slice(0, 5),
    scores: report.scores,
    counts: report.truncated?.counts ?? countBySeverity(report.findings), // the report may list fewer than were counted
    reportKey: keys.validation,
    sarifKey: keys.sarif,
    topRecommendations: report.recommendations
      .slice(0, MAX_TOP_RECOMMENDATIONS)
      .map((r) => `${r.severity}: ${r.title}`),
    ...(coverage && { coverage: coverageSummary(coverage) }),
    ...(files && { digest: { files, report: reportSha, review: reviewDigest(files, reportSha) } }),
  };
}

/** What coverage needs: the plan's requirements and tasks, the project, and what layers 2 and 3 found. */
function coverageInput(
  plan: Plan,
  files: { path: string; content: Buffer }[],
  compliance: ComplianceReport | LayerFailure,
  dynamic: DynamicReport | LayerFailure | undefined,
): CoverageInput {
  const declined = plan.tasks.flatMap(
    (task) => (task.metadata?.offline as { notImplemented?: Capability[] } | undefined)?.notImplemented ?? [],
  );
  return {
    project: toProject(files),
    requirements: plan.requirements ?? [],
    tasks: plan.tasks.map((task) => ({ id: task.id, covers: task.covers })),
    declined: [...new Set(declined)],
    tests: !dynamic
      ? { status: 'not_assessed', reason: 'layer 2 did not run for this intent' }
      : 'layer' in dynamic
        ? { status: 'assessed', results: dynamic.run.tests.results }
        : { status: 'not_assessed', reason: dynamic.reason },
    compliance:
      'layer' in compliance
        ? { status: 'assessed', frameworks: compliance.frameworks }
        : { status: 'not_assessed', reason: compliance.reason },
  };
}
