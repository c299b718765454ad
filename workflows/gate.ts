import { ApplicationFailure, condition, log, setHandler } from '@temporalio/workflow';
import { DecisionInput, type DecisionRecord } from '../contracts/decision';
import type { ValidationSummary } from '../contracts/validation';
import type { IntentPolicy } from '../contracts/workflow';
import { decisionSignal, submitDecisionUpdate } from './messages';
import type { IntentProgress } from './progress';

/**
 * The human gate before packaging. Decisions arrive by the validated `submitDecision` update
 * (API, CLI) or the `decision` signal (Web UI, temporal CLI); the first valid one while the gate
 * is open counts. Without one within the policy's timeout, the intent is rejected.
 */
export class ReleaseGate {
  private decision: DecisionRecord | undefined;

  constructor(
    private readonly progress: IntentProgress,
    private readonly policy: IntentPolicy,
  ) {
    setHandler(submitDecisionUpdate, (d) => (this.decision = { ...DecisionInput.parse(d), via: 'update' }), {
      validator: (d) => {
        this.assertOpen();
        const parsed = DecisionInput.safeParse(d);
        if (!parsed.success) {
          const reasons = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
          throw ApplicationFailure.nonRetryable(reasons, 'InvalidDecision');
        }
      },
    });
    setHandler(decisionSignal, (d) => {
      const parsed = DecisionInput.safeParse(d);
      if (!this.isOpen() || !parsed.success) {
        log.warn('decision signal ignored', { status: progress.state.status, valid: parsed.success });
        return;
      }
      this.decision = { ...parsed.data, via: 'signal' };
    });
  }

  /** Waits for a decision, or applies the auto-approve policy or the timeout. */
  async decide(validation: ValidationSummary): Promise<DecisionRecord> {
    const { state } = this.progress;
    const verdictPassed = validation.score ? validation.score.verdict === 'passed' : true;
    if (this.policy.autoApprove && validation.typecheck.status === 'passed' && verdictPassed) {
      const decision: DecisionRecord = {
        decision: 'approve',
        approver: 'policy:auto-approve',
        reason: 'validation passed',
        via: 'policy',
      };
      this.decision = decision;
      state.gate = { state: 'decided', decision };
      return decision;
    }
    state.gate = { state: 'open' };
    await this.progress.advance('AWAITING_APPROVAL', { validation, gate: state.gate });
    const { gateTimeout } = this.policy;
    if (!(await condition(() => this.decision !== undefined, gateTimeout))) {
      const decision: DecisionRecord = {
        decision: 'reject',
        approver: 'policy:gate-timeout',
        reason: `no decision within ${String(gateTimeout)}`,
        via: 'timeout',
      };
      this.decision = decision;
      state.gate = { state: 'timed_out', decision };
      return decision;
    }
    const decision = this.decision!;
    state.gate = { state: 'decided', decision };
    return decision;
  }

  private isOpen(): boolean {
    return this.progress.state.gate?.state === 'open' && !this.decision;
  }

  private assertOpen(): void {
    if (this.isOpen()) return;
    const { status } = this.progress.state;
    throw ApplicationFailure.nonRetryable(
      `intent is ${status}${this.decision ? ' and already decided' : ''}, not awaiting a decision`,
      'NotAwaitingDecision',
    );
  }
}
