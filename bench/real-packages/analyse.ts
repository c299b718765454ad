import type { CheckResult, Finding } from '../../contracts/validation';
import { runCompliance } from '../../validation/compliance/engine';
import { projectFromFiles } from '../../validation/project';
import { DEFAULT_THRESHOLDS, scoreValidation } from '../../validation/scoring';
import { runStaticReview } from '../../validation/static';
import type { PackageSource } from './install';

// The gate's own entry points on a package: layer 1 (runStaticReview: type-check, ESLint security rules,
// secrets, semgrep, data flow, dependency policy; no LLM reviewer here, so that check is skipped) and
// layer 3 (runCompliance with every built-in framework, none claimed), scored as the gate scores them
// (no layer 2: a library's own test suite is not what the gate runs).

export interface Analysis {
  findings: Finding[];
  checks: Pick<CheckResult, 'tool' | 'status' | 'reason' | 'findingCount' | 'durationMs'>[];
  gate: { scores: ReturnType<typeof scoreValidation>['scores']; verdict: string; reasons: string[] };
  durationMs: number;
}

export async function analysePackage(name: string, source: PackageSource, semgrep: string | null): Promise<Analysis> {
  const started = performance.now();
  const project = projectFromFiles(source.files);
  const intentId = `bench-real-${name}`;
  const review = await runStaticReview(project, { intentId }, { semgrep: { executable: semgrep } });
  const complianceStarted = performance.now();
  const compliance = await runCompliance(project, { intentId });
  const complianceMs = Math.round(performance.now() - complianceStarted);
  const checks = [
    ...review.checks.map(({ tool, status, reason, findingCount, durationMs }) => ({
      tool,
      status,
      ...(reason && { reason }),
      findingCount,
      durationMs,
    })),
    {
      tool: 'compliance' as const,
      status: compliance.findings.some((f) => f.severity !== 'info') ? ('failed' as const) : ('passed' as const),
      findingCount: compliance.findings.length,
      durationMs: complianceMs,
    },
  ];
  const scored = scoreValidation({ static: review, compliance, thresholds: DEFAULT_THRESHOLDS });
  return {
    findings: [...review.findings, ...compliance.findings],
    checks,
    gate: { scores: scored.scores, verdict: scored.verdict.status, reasons: scored.verdict.reasons },
    durationMs: Math.round(performance.now() - started),
  };
}
