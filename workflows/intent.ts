import { CancellationScope, condition, isCancellation, patched, setHandler } from '@temporalio/workflow';
import type { IntentOutcome, IntentWorkflowInput } from '../contracts/workflow';
import { CancelRequests } from './cancellation';
import { failureMessage } from './failures';
import { ReleaseGate } from './gate';
import type { IntentContext } from './intent-context';
import { statusQuery } from './messages';
import { packageApproved } from './package';
import { planIntent } from './plan';
import { IntentProgress } from './progress';
import { runTasks } from './run-tasks';
import { IntentSpend } from './spend';
import { validate } from './validate';

/** An intent, from text to capsule: plan → run tasks → validate → human gate → package. */
export async function intentWorkflow(input: IntentWorkflowInput): Promise<IntentOutcome> {
  const progress = new IntentProgress(input.intentId);
  const ctx: IntentContext = { input, progress, spend: new IntentSpend(input.policy.budget, progress) };
  const gate = new ReleaseGate(progress, input);
  // Everything the intent does runs in this scope, so a cancel request can stop it from a handler.
  const body = new CancellationScope();
  const cancelRequests = new CancelRequests(progress, body);
  setHandler(statusQuery, () => progress.state);

  try {
    return await body.run(async () => {
      await progress.advance('PLANNING');
      const plan = await planIntent(ctx);
      await progress.advance('EXECUTING', { plan });

      const artifacts = await runTasks(ctx, plan);

      await progress.advance('VALIDATING');
      const validation = await validate(ctx, artifacts);
      progress.state.validation = validation;

      const approval = await gate.decide(validation, { plan, artifacts });
      const { gate: gateState } = progress.state;
      if (gate.cancelsIntent) {
        await progress.advance('CANCELLED', {
          reason: approval.reason,
          gate: gateState,
          audit: { type: 'intent.cancelled', actor: approval.approver, data: { via: approval.via } },
        });
        return { status: 'CANCELLED', reason: approval.reason };
      }
      if (approval.decision === 'reject') {
        await progress.advance('REJECTED', {
          reason: approval.reason,
          gate: gateState,
          audit: { type: 'intent.rejected', actor: approval.approver, data: { via: approval.via } },
        });
        return { status: 'REJECTED', reason: approval.reason };
      }

      await progress.advance('PACKAGING', {
        gate: gateState,
        validation, // auto-approved intents never recorded it at the gate
        audit: {
          type: 'intent.approved',
          actor: approval.approver,
          data: { via: approval.via, reason: approval.reason },
        },
      });
      const capsule = await packageApproved(ctx, { plan, artifacts, validation, approval });
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

/** Returns once Temporal has been asked to cancel the run (the root scope is cancelled), or after a minute. */
async function untilCancelRequested(): Promise<void> {
  try {
    await condition(() => false, '1 minute');
  } catch (error) {
    if (!isCancellation(error)) throw error;
  }
}
