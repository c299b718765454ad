import { msToNumber } from '@temporalio/common/lib/time';
import { ApplicationFailure, condition, log, patched, setCurrentDetails, setHandler } from '@temporalio/workflow';
import { DecisionInput, type Approval, type DecisionRecord, type IgnoredDecision } from '../contracts/decision';
import { printable } from '../contracts/text';
import type { ValidationSummary } from '../contracts/validation';
import type { IntentWorkflowInput } from '../contracts/workflow';
import { evaluateDecision, issues, type Evaluation } from './approvals';
import { renderDetails } from './details';
import { decisionSignal, submitDecisionUpdate } from './messages';
import type { IntentProgress } from './progress';

/** Ignored signals kept in the workflow's state (the latest), and written to the audit trail (the first). */
const KEPT_IGNORED = 10;
const AUDITED_IGNORED = 20;
/** The digest of a gate whose validation produced none (scoring could not run): approvers sign this one. */
export const NO_REVIEW_DIGEST = '0'.repeat(64);

/** Workflow time: the start of the workflow task that ran the handler, replayed as recorded. */
// eslint-disable-next-line no-restricted-syntax -- the replay-stable workflow clock is the point
const now = () => new Date().toISOString();

/**
 * The human gate before packaging. Decisions arrive by the validated `submitDecision` update (API, CLI)
 * or the `decision` signal (Web UI, temporal CLI). For intents whose policy verifies identities, a
 * decision counts only when the API signed it for an approver of this tenant and for the content now
 * under review (workflows/approvals.ts); the policy may need several distinct approvers, and any
 * rejection ends the gate. Without a decision within the policy's timeout, the intent is rejected. The
 * update refuses a decision it does not take with a reason (nothing is recorded); a signal cannot be
 * refused, so one the gate does not take is recorded as ignored, with why.
 */
export class ReleaseGate {
  private decision: DecisionRecord | undefined;
  private readonly approvals: Approval[] = [];
  private digest = NO_REVIEW_DIGEST;

  constructor(
    private readonly progress: IntentProgress,
    private readonly input: IntentWorkflowInput,
  ) {
    setHandler(submitDecisionUpdate, (message) => this.onUpdate(message), {
      validator: (message) => {
        this.assertOpen();
        const evaluation = this.evaluate(message, 'update');
        if (!evaluation.ok) throw ApplicationFailure.nonRetryable(evaluation.reason, evaluation.type);
      },
    });
    setHandler(decisionSignal, async (message) => {
      const evaluation: Evaluation = this.isOpen()
        ? this.evaluate(message, 'signal')
        : { ok: false, type: 'AlreadyDecided', reason: this.notAwaiting() };
      if (evaluation.ok) {
        await this.take(evaluation.approval);
        return;
      }
      log.warn('decision signal ignored', { status: progress.state.status, reason: evaluation.reason });
      await this.recordIgnored(message, evaluation.reason);
    });
  }

  private get policy() {
    return this.input.policy.approval;
  }

  /** Intents started before identities take plain `{ decision, approver, reason }` decisions, as they did. */
  private evaluate(message: unknown, via: 'update' | 'signal'): Evaluation {
    if (!this.policy) {
      const parsed = DecisionInput.safeParse(message);
      if (!parsed.success)
        return { ok: false, type: 'InvalidDecision', reason: `malformed decision: ${issues(parsed.error)}` };
      return { ok: true, approval: legacyApproval(parsed.data, via) };
    }
    const ctx = { input: this.input, policy: this.policy, digest: this.digest, approvals: this.approvals, now: now() };
    return evaluateDecision(message, via, ctx);
  }

  private async onUpdate(message: unknown): Promise<DecisionRecord> {
    const evaluation = this.evaluate(message, 'update');
    if (!evaluation.ok) throw ApplicationFailure.nonRetryable(evaluation.reason, evaluation.type);
    if (!this.policy) {
      const parsed = DecisionInput.parse(message);
      return (this.decision = { ...parsed, via: 'update', decidedAt: now() });
    }
    return this.take(evaluation.approval);
  }

  /** Records one approval or rejection; the gate is decided by a rejection or by the last approval needed. */
  private async take(approval: Approval): Promise<DecisionRecord> {
    if (!this.policy) {
      const { decision, name: approver, reason, via, decidedAt } = approval;
      return (this.decision = { decision, approver, ...(reason && { reason }), via, decidedAt });
    }
    this.approvals.push(approval);
    const approvedBy = this.approvals.filter((a) => a.decision === 'approve');
    const deciding = approval.decision === 'reject' ? [approval] : approvedBy;
    const record = decisionRecord(deciding, approval);
    const gate = { ...this.progress.state.gate!, approvals: [...this.approvals] };
    this.progress.state.gate = gate;
    if (approval.decision === 'reject' || approvedBy.length >= this.policy.required) {
      this.decision = record;
      return record;
    }
    setCurrentDetails(renderDetails(this.progress.state));
    await this.progress.advance('AWAITING_APPROVAL', {
      gate,
      audit: {
        type: 'intent.approval_recorded',
        actor: approval.name,
        data: {
          subject: approval.subject,
          method: approval.method,
          via: approval.via,
          digest: approval.digest,
          approvals: approvedBy.length,
          required: this.policy.required,
        },
      },
    });
    return record;
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
    if (this.input.policy.autoApprove && validation.typecheck.status === 'passed' && verdictPassed) {
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
    this.digest = validation.score?.digest?.review ?? NO_REVIEW_DIGEST;
    const { gateTimeout } = this.input.policy;
    // What the Web UI's details show an ops person: which gate, until when, who, and what to send.
    const deadline = new Date(Date.parse(now()) + msToNumber(gateTimeout)).toISOString();
    const shown = { id: 'release' as const, deadline };
    state.gate = this.policy
      ? {
          state: 'open',
          ...shown,
          roles: ['approver'],
          unsignedSignals: this.policy.unauthenticatedSignals,
          digest: this.digest,
          required: this.policy.required,
          approvals: [],
          selfApproval: this.policy.allowSelfApproval,
        }
      : { state: 'open', ...shown };
    await this.progress.advance('AWAITING_APPROVAL', { validation, gate: state.gate });
    const decided = () => this.decision !== undefined;
    const summary = `release gate: rejects at ${deadline} unless decided`;
    const inTime = patched('gate-timer-summary')
      ? await condition(decided, gateTimeout, { summary })
      : await condition(decided, gateTimeout);
    if (!inTime) {
      const decision: DecisionRecord = {
        decision: 'reject',
        approver: 'policy:gate-timeout',
        reason: `no decision within ${String(gateTimeout)}`,
        via: 'timeout',
        decidedAt: now(),
      };
      this.decision = decision;
      state.gate = { ...state.gate, state: 'timed_out', decision };
      return decision;
    }
    const decision = this.decision!;
    state.gate = { ...state.gate, state: 'decided', decision };
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

function legacyApproval(d: DecisionInput, via: 'update' | 'signal'): Approval {
  return {
    ...d,
    subject: d.approver,
    name: d.approver,
    roles: [],
    tenants: [],
    method: 'unauthenticated',
    via,
    decidedAt: now(),
  };
}

/** The gate's decision: by whom (all approvers, or the one who rejected), bound to the reviewed digest. */
function decisionRecord(deciding: Approval[], last: Approval): DecisionRecord {
  const reasons = deciding.map((a) => a.reason).filter((r): r is string => Boolean(r));
  return {
    decision: last.decision,
    approver: deciding.map((a) => a.name).join(', '),
    ...(reasons.length > 0 && { reason: reasons.join('; ') }),
    via: last.via,
    decidedAt: last.decidedAt,
    approvals: deciding,
    ...(last.digest && { digest: last.digest }),
    authenticated: deciding.every((a) => a.method !== 'unauthenticated'),
  };
}
