import { ApplicationFailure, condition, log, patched, setCurrentDetails, setHandler } from '@temporalio/workflow';
import { DecisionInput, type DecisionRecord, type IgnoredDecision } from '../contracts/decision';
import { printable } from '../contracts/text';
import type { ValidationSummary } from '../contracts/validation';
import type { IntentPolicy } from '../contracts/workflow';
import { renderDetails } from './details';
import { decisionSignal, submitDecisionUpdate } from './messages';
import type { IntentProgress } from './progress';

/** Ignored signals kept in the workflow's state (the latest), and written to the audit trail (the first). */
const KEPT_IGNORED = 10;
const AUDITED_IGNORED = 20;

/** Workflow time: the start of the workflow task that ran the handler, replayed as recorded. */
// eslint-disable-next-line no-restricted-syntax -- the replay-stable workflow clock is the point
const now = () => new Date().toISOString();

/**
 * The human gate before packaging. Decisions arrive by the validated `submitDecision` update
 * (API, CLI) or the `decision` signal (Web UI, temporal CLI); the first valid one while the gate
 * is open counts, stamped with the time it was taken. Without one within the policy's timeout, the
 * intent is rejected. The update refuses a malformed or untimely decision with a reason (nothing is
 * recorded); a signal cannot be refused, so one the gate does not take is recorded as ignored.
 */
export class ReleaseGate {
  private decision: DecisionRecord | undefined;

  constructor(
    private readonly progress: IntentProgress,
    private readonly policy: IntentPolicy,
  ) {
    setHandler(
      submitDecisionUpdate,
      (d) => (this.decision = { ...DecisionInput.parse(d), via: 'update', decidedAt: now() }),
      {
        validator: (d) => {
          this.assertOpen();
          const parsed = DecisionInput.safeParse(d);
          if (!parsed.success) throw ApplicationFailure.nonRetryable(issues(parsed.error), 'InvalidDecision');
        },
      },
    );
    setHandler(decisionSignal, async (d) => {
      const parsed = DecisionInput.safeParse(d);
      if (this.isOpen() && parsed.success) {
        this.decision = { ...parsed.data, via: 'signal', decidedAt: now() };
        return;
      }
      const reason = parsed.success ? this.notAwaiting() : `malformed decision: ${issues(parsed.error)}`;
      log.warn('decision signal ignored', { status: progress.state.status, reason });
      await this.recordIgnored(d, reason);
    });
  }

  /**
   * Keeps an ignored signal in the workflow's state (the `status` query and the Web UI's details) and,
   * for intents started with this code, writes it to the audit trail. What was sent is made printable
   * first: the signal that carried a NUL byte must not carry it into PostgreSQL.
   */
  private async recordIgnored(sent: unknown, reason: string): Promise<void> {
    const { state } = this.progress;
    const approver = typeof sent === 'object' && sent !== null ? (sent as { approver?: unknown }).approver : undefined;
    const entry: IgnoredDecision = {
      at: now(),
      reason: printable(reason, 500),
      ...(typeof approver === 'string' && { approver: printable(approver, 200) }),
    };
    const ignored = (state.ignoredDecisions ??= { count: 0, latest: [] });
    ignored.count += 1;
    ignored.latest = [...ignored.latest, entry].slice(-KEPT_IGNORED);
    setCurrentDetails(renderDetails(state));
    // A read-model write is a new command in the history: intents started before it replay without it.
    if (ignored.count > AUDITED_IGNORED || !patched('record-ignored-decisions')) return;
    await this.progress.advance(state.status, {
      reason: state.reason,
      audit: {
        type: 'intent.decision_ignored',
        actor: entry.approver || 'unknown',
        data: { via: 'signal', reason: entry.reason },
      },
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
        decidedAt: now(),
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
        decidedAt: now(),
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

  private notAwaiting(): string {
    const { status } = this.progress.state;
    return `intent is ${status}${this.decision ? ' and already decided' : ''}, not awaiting a decision`;
  }

  private assertOpen(): void {
    if (!this.isOpen()) throw ApplicationFailure.nonRetryable(this.notAwaiting(), 'NotAwaitingDecision');
  }
}

/** zod's issues as one line: `approver: must not be empty; reason: is required when rejecting`. */
function issues(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || 'decision'}: ${i.message}`).join('; ');
}
