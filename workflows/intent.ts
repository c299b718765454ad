import { CancellationScope, condition, isCancellation, patched, setHandler } from '@temporalio/workflow';
import type { ArtifactRef } from '../contracts/artifacts';
import type { DecisionRecord } from '../contracts/decision';
import type { Plan } from '../contracts/plan';
import type { ValidationSummary } from '../contracts/validation';
import type { IntentOutcome, IntentWorkflowInput } from '../contracts/workflow';
import { CancelRequests } from './cancellation';
import { failureMessage } from './failures';
import { ReleaseGate } from './gate';
import type { IntentContext } from './intent-context';
import { statusQuery } from './messages';
import { packageApproved } from './package';
import { planIntent } from './plan';
import { planGateOpens } from './plan-review';
import { IntentProgress } from './progress';
import { repairUntilValid } from './repair';
import { changedTasks, changesFeedback, reviseTasks } from './revise';
import { runTasks } from './run-tasks';
import { attachSimilarIntents, reusedArtifacts } from './similar';
import { IntentSpend } from './spend';
import { validate } from './validate';

/**
 * An intent, from text to capsule: plan → (plan gate) → run tasks → validate (and repair) → release
 * gate, where changes may be requested for a new version → package.
 */
export async function intentWorkflow(input: IntentWorkflowInput): Promise<IntentOutcome> {
  const progress = new IntentProgress(input.intentId);
  const spend = new IntentSpend(input.policy.budget, progress);
  const ctx: IntentContext = { input, progress, spend };
  const gate = new ReleaseGate(progress, input, spend);
  // Everything the intent does runs in this scope, so a cancel request can stop it from a handler.
  const body = new CancellationScope();
  const cancelRequests = new CancelRequests(progress, body);
  setHandler(statusQuery, () => progress.state);

  try {
    return await body.run(async () => {
      await progress.advance('PLANNING');
      const similar = patched('similar-intents') ? await attachSimilarIntents(ctx) : undefined;
      let plan = await planIntent(ctx);

      if (planGateOpens(input.policy.planGate, plan) && patched('plan-gate')) {
        const reviewed = await gate.decidePlan(plan);
        if (reviewed.decision.decision !== 'approve') return end(ctx, gate, reviewed.decision);
        plan = reviewed.plan;
        progress.planned(plan);
        await progress.advance('EXECUTING', {
          plan,
          gate: progress.state.gate,
          audit: planApproved(reviewed.decision),
        });
      } else {
        await progress.advance('EXECUTING', { plan });
      }

      const reused = await reusedArtifacts(ctx, similar);
      if (reused)
        for (const task of plan.tasks)
          progress.setTask(task.id, {
            state: 'SKIPPED',
            error: `files reused from intent ${similar?.reusable?.intentId}`,
          });
      let artifacts = reused ?? (await runTasks(ctx, plan));
      await progress.advance('VALIDATING');
      let validation = await validate(ctx, artifacts);
      if (patched('repair-loop'))
        ({ artifacts, validation } = await repairUntilValid(ctx, plan, { artifacts, validation }, 1));
      progress.state.validation = validation;

      let version = 1;
      let previousArtifacts: ArtifactRef[] | undefined;
      let approval = await gate.decide(validation, { plan, artifacts }, version);
      while (approval.decision === 'request_changes') {
        await progress.advance('EXECUTING', { gate: progress.state.gate, audit: changesRequested(approval, version) });
        previousArtifacts = artifacts;
        version += 1;
        ({ artifacts, validation } = await nextVersion(ctx, plan, artifacts, approval, version));
        approval = await gate.decide(validation, { plan, artifacts, previousArtifacts }, version);
      }
      if (approval.decision !== 'approve') return end(ctx, gate, approval);

      const { gate: gateState } = progress.state;
      await progress.advance('PACKAGING', {
        gate: gateState,
        validation, // auto-approved intents never recorded it at the gate
        audit: {
          type: 'intent.approved',
          actor: approval.approver,
          data: { via: approval.via, reason: approval.reason, ...(version > 1 && { version }) },
        },
      });
      const history = gateState?.history;
      const capsule = await packageApproved(ctx, { plan, artifacts, validation, approval, version, history });
      progress.state.capsule = capsule;
      await progress.advance('COMPLETED', { capsule });
      return { status: 'COMPLETED', capsule };
    });
  } catch (error) {
    if (isCancellation(error)) {
      const { by, reason } = cancelRequests.describe();
      await CancellationScope.nonCancellable(() =>
        progress.advance('CANCELLED', { reason, audit: { type: 'intent.cancelled', actor: by } }),
      );
      // The API's cancel is the update, then a Temporal cancel request: ending before that request arrives
      // would show the run as Failed. Wait for it (bounded, should the API die in between).
      if (cancelRequests.fromUpdate && patched('cancel-ends-canceled')) await untilCancelRequested();
      throw error;
    }
    await progress.advance('FAILED', { reason: failureMessage(error) });
    throw error;
  }
}

/** The changes a reviewer asked for: the affected tasks re-run with the comments, then validation (and repair) again. */
async function nextVersion(
  ctx: IntentContext,
  plan: Plan,
  artifacts: ArtifactRef[],
  request: DecisionRecord,
  version: number,
): Promise<{ artifacts: ArtifactRef[]; validation: ValidationSummary }> {
  const revised = await reviseTasks(ctx, plan, artifacts, {
    label: `v${version}`,
    kind: 'changes',
    taskIds: changedTasks(plan, request.changes),
    feedbackFor: (task) => changesFeedback(request.reason, request.changes, task),
  });
  await ctx.progress.advance('VALIDATING');
  const validation = await validate(ctx, revised);
  const repaired = await repairUntilValid(ctx, plan, { artifacts: revised, validation }, version);
  ctx.progress.state.validation = repaired.validation;
  return repaired;
}

/** A gate ended the intent: rejected, timed out, or cancelled by the tenant's ladder. */
async function end(ctx: IntentContext, gate: ReleaseGate, decision: DecisionRecord): Promise<IntentOutcome> {
  const { progress } = ctx;
  const status = gate.cancelsIntent ? 'CANCELLED' : 'REJECTED';
  await progress.advance(status, {
    reason: decision.reason,
    gate: progress.state.gate,
    audit: { type: `intent.${status.toLowerCase()}`, actor: decision.approver, data: { via: decision.via } },
  });
  return { status, reason: decision.reason };
}

function planApproved(decision: DecisionRecord) {
  return {
    type: 'intent.plan_approved',
    actor: decision.approver,
    data: { via: decision.via, reason: decision.reason, ...(decision.planEdit && { planEdit: decision.planEdit }) },
  };
}

function changesRequested(decision: DecisionRecord, version: number) {
  return {
    type: 'intent.changes_requested',
    actor: decision.approver,
    data: { via: decision.via, version, reason: decision.reason, changes: decision.changes ?? [] },
  };
}

/** Returns once Temporal has been asked to cancel the run (the root scope is cancelled), or after a minute. */
async function untilCancelRequested(): Promise<void> {
  try {
    await condition(() => false, '1 minute');
  } catch (error) {
    if (!isCancellation(error)) throw error;
  }
}
