import { reportKeys } from '../../adapters/storage/artifacts';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { ComplianceSummary } from '../../contracts/validation';
import { parseCustomRules } from '../../validation/compliance/custom-rules';
import type { BuiltInFramework, CustomRulesFile } from '../../validation/compliance/schema';
import type { ProjectAnalysis } from './analysis';
import { withHeartbeat } from '../heartbeat';
import { claimedFrameworks, loadPlan, loadProject, type ValidationInput } from './load-project';

export interface ComplianceReviewInput extends ValidationInput {
  /** Frameworks that apply to this intent (tenant setting); default: the tenant file's choice, else all. */
  frameworks?: BuiltInFramework[];
  /** S3 key of the tenant's rules file (JSON or YAML). */
  customRulesKey?: string;
}

const MAX_FAILED_CONTROLS = 20;

/** Layer 3: evaluates the selected rule packs and tenant rules, stores the report, returns per-framework counts. */
export async function complianceReview(
  store: ObjectStore,
  analysis: ProjectAnalysis,
  input: ComplianceReviewInput,
): Promise<ComplianceSummary> {
  return withHeartbeat(async (setPhase) => {
    setPhase('loading project');
    const project = await loadProject(store, input.artifacts);
    const custom = input.customRulesKey ? await loadCustomRules(store, input.customRulesKey) : {};
    // Frameworks the intent names are claimed: assessed whatever the selection, their required controls included.
    const claimed = claimedFrameworks(await loadPlan(store, input.intentId));
    setPhase('rule packs');
    const report = await analysis.complianceReport(project, input.intentId, {
      frameworks: input.frameworks,
      ...(claimed.length && { claimed }),
      ...custom,
    });
    const reportKey = reportKeys(input.intentId).compliance;
    setPhase('storing report');
    await store.putJson(reportKey, report);
    return {
      status: 'assessed',
      reportKey,
      frameworks: report.frameworks.map((fw) => ({
        framework: fw.framework,
        status: fw.status,
        counts: fw.counts,
        notCovered: fw.notCovered.length,
      })),
      failedControls: report.frameworks
        .flatMap((fw) => fw.controls.filter((c) => c.status === 'fail').map((c) => `${fw.framework} ${c.id}`))
        .slice(0, MAX_FAILED_CONTROLS),
      customRules: { status: report.customRules.status, count: report.customRules.count },
    };
  });
}

/** A missing or invalid tenant file is reported in the compliance report (not assessed), not thrown. */
async function loadCustomRules(
  store: ObjectStore,
  key: string,
): Promise<{ customRules?: CustomRulesFile; customRulesErrors?: string[] }> {
  if (!(await store.stat(key))) return { customRulesErrors: [`tenant rules file ${key} not found`] };
  const parsed = parseCustomRules((await store.getBuffer(key)).toString('utf8'));
  return parsed.ok ? { customRules: parsed.file } : { customRulesErrors: parsed.errors };
}
