import type { ArtifactRef } from '../contracts/artifacts';
import type { Plan } from '../contracts/plan';
import type { RepairRound, ValidationSummary } from '../contracts/validation';
import type { IntentContext } from './intent-context';
import { reviseTasks } from './revise';
import { validate } from './validate';

/** Which tasks a repair round re-runs: the code and its tests. */
const REPAIRED_TYPES = new Set(['codegen', 'test']);

/**
 * The agents' repair loop: while the type-check, the build or the project's tests fail, the codegen and
 * test agents get the failures and produce a fix, then validation runs again — up to the policy's
 * rounds, stopping early when it passes or the budget is spent. LLM plans only: the offline catalogue
 * would produce the same files again. Each round's children and its audit event show in the Web UI.
 */
export async function repairUntilValid(
  ctx: IntentContext,
  plan: Plan,
  initial: { artifacts: ArtifactRef[]; validation: ValidationSummary },
  version: number,
): Promise<{ artifacts: ArtifactRef[]; validation: ValidationSummary }> {
  const maxRounds = ctx.input.policy.repairRounds ?? 0;
  let { artifacts, validation } = initial;
  if (maxRounds === 0 || plan.mode !== 'llm') return initial;
  const rounds: RepairRound[] = [];
  const produced = new Set(artifacts.map((a) => a.taskId));
  const taskIds = new Set(plan.tasks.filter((t) => REPAIRED_TYPES.has(t.type) && produced.has(t.id)).map((t) => t.id));
  for (let round = 1; round <= maxRounds && failuresOf(validation).length > 0 && taskIds.size > 0; round++) {
    const failures = failuresOf(validation);
    if (!ctx.spend.withinBudget()) {
      rounds.push({ round, failures, tasks: [], verdict: 'not run: the budget is spent' });
      break;
    }
    const label = version > 1 ? `v${version}-r${round}` : `r${round}`;
    await ctx.progress.advance('EXECUTING', {
      audit: { type: 'intent.repair_round', actor: 'workflow', data: { round, label, failures, tasks: [...taskIds] } },
    });
    const feedback = failures.join('\n');
    artifacts = await reviseTasks(ctx, plan, artifacts, {
      label,
      kind: 'repair',
      taskIds,
      feedbackFor: () => feedback,
    });
    await ctx.progress.advance('VALIDATING');
    validation = await validate(ctx, artifacts);
    rounds.push({ round, failures, tasks: [...taskIds], verdict: verdictOf(validation) });
    ctx.progress.state.validation = { ...validation, repairRounds: rounds };
  }
  return { artifacts, validation: rounds.length ? { ...validation, repairRounds: rounds } : validation };
}

/** What a repair round fixes: type errors, a failed build or failing tests (not findings or sandbox limits). */
export function failuresOf(validation: ValidationSummary): string[] {
  const failures: string[] = [];
  if (validation.typecheck.status === 'failed') {
    failures.push(...validation.typecheck.firstErrors.map((e) => `type error: ${e}`));
    if (failures.length === 0) failures.push(`type-check failed with ${validation.typecheck.errorCount} error(s)`);
  }
  const dynamic = validation.dynamic;
  if (dynamic?.status === 'assessed' && dynamic.outcome === 'failed' && dynamic.limitHits.length === 0) {
    failures.push(...(dynamic.problems.length ? dynamic.problems : [`the build or tests failed in the sandbox`]));
  }
  return failures;
}

function verdictOf(validation: ValidationSummary): string {
  return validation.score?.verdict ?? (validation.typecheck.status === 'passed' ? 'passed' : 'failed');
}
