import type { RequirementCoverage } from '../contracts/requirements';
import type {
  ComplianceReport,
  DynamicReport,
  LayerFailure,
  LayerState,
  StaticReport,
  Thresholds,
  ValidationReport,
} from '../contracts/validation';
import { sandboxBrief } from './dynamic';
import { sortFindings } from './findings';
import { scoreValidation } from './scoring';

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

/** The combined validation report: scores with their explanations, verdict, recommendations and every finding. */
export function buildValidationReport(input: ReportInput): ValidationReport {
  const result = scoreValidation({
    static: input.static,
    compliance: input.compliance,
    dynamic: input.dynamic,
    thresholds: input.thresholds,
    coverage: input.coverage,
  });
  return {
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
    sarifKey: input.reportKeys.sarif,
  };
}
