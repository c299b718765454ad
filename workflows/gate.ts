import { msToNumber } from '@temporalio/common/lib/time';
import {
  ApplicationFailure,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ArtifactRef } from '../contracts/artifacts';
import type { DropRef } from '../contracts/drop';
import type { Plan } from '../contracts/plan';
import { ioActivity } from './activity-options';
import { DecisionInput, type Approval, type DecisionRecord, type IgnoredDecision } from '../contracts/decision';
import { printable } from '../contracts/text';
import type { ValidationSummary } from '../contracts/validation';
import type { GateEscalation, IntentWorkflowInput } from '../contracts/workflow';
import { evaluateDecision, issues, type Evaluation } from './approvals';
import { renderDetails } from './details';
import { decisionSignal, submitDecisionUpdate } from './messages';
import type { IntentProgress } from './progress';

const { buildDrop } = proxyActivities<Activities>(ioActivity);

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
  /** The timeout cancelled the intent (the tenant's ladder says so) rather than rejecting it. */
  cancelsIntent = false;

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
  async decide(
    validation: ValidationSummary,
    review: { plan: Plan; artifacts: ArtifactRef[] },
  ): Promise<DecisionRecord> {
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
    const opened = Date.parse(now());
    const deadline = new Date(opened + msToNumber(gateTimeout)).toISOString();
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
    // The QuantumDrop: what the approvers review, as one bundle (diff, plan, findings, tests, cost).
    const drop = patched('quantum-drop') ? await this.buildDrop(validation, review) : undefined;
    if (drop) state.gate = { ...state.gate, drop };
    const ladder = this.policy?.escalation && patched('gate-escalation') ? this.policy.escalation : undefined;
    if (ladder) state.gate = { ...state.gate, onTimeout: ladder.onTimeout };
    await this.progress.advance('AWAITING_APPROVAL', { validation, gate: state.gate });
    const decided = () => this.decision !== undefined;
    const summary = `release gate: rejects at ${deadline} unless decided`;
    const inTime = ladder
      ? await this.climb(ladder, opened, msToNumber(gateTimeout))
      : patched('gate-timer-summary')
        ? await condition(decided, gateTimeout, { summary })
        : await condition(decided, gateTimeout);
    if (!inTime) {
      const cancel = ladder?.onTimeout === 'cancel';
      this.cancelsIntent = cancel;
      const decision: DecisionRecord = {
        decision: 'reject',
        approver: 'policy:gate-timeout',
        reason: `no decision within ${String(gateTimeout)}${cancel ? ': the intent is cancelled' : ''}`,
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

  /**
   * The tenant's escalation ladder while no decision comes: a reminder at T1 and an escalation at T2
   * (each an audit event, so a webhook), then the gate's timeout. Durable timers, each with a summary.
   * Returns whether a decision came in time.
   */
  private async climb(ladder: GateEscalation, opened: number, timeout: number): Promise<boolean> {
    const deadline = new Date(opened + timeout).toISOString();
    const steps = (
      [
        ['reminder', ladder.remindAfter],
        ['escalation', ladder.escalateAfter],
      ] as const
    )
      .flatMap(([kind, after]) => (after === undefined ? [] : [{ kind, at: msToNumber(after) }]))
      .filter((step) => step.at > 0 && step.at < timeout)
      .sort((a, b) => a.at - b.at);
    const decided = () => this.decision !== undefined;
    let waited = 0;
    for (const step of steps) {
      const at = new Date(opened + step.at).toISOString();
      if (
        step.at > waited &&
        (await condition(decided, step.at - waited, { summary: `release gate: ${step.kind} at ${at}` }))
      )
        return true;
      waited = step.at;
      await this.climbed(step.kind, ladder, deadline);
    }
    const end = ladder.onTimeout === 'cancel' ? 'cancels the intent' : 'rejects';
    return condition(decided, timeout - waited, { summary: `release gate: ${end} at ${deadline} unless decided` });
  }

  /** A step of the ladder: recorded on the gate, in the audit trail (and so to webhooks), and in the details. */
  private async climbed(kind: 'reminder' | 'escalation', ladder: GateEscalation, deadline: string): Promise<void> {
    const { state } = this.progress;
    const at = now();
    const gate =
      kind === 'reminder'
        ? { ...state.gate!, remindedAt: at }
        : { ...state.gate!, escalated: { at, to: ladder.escalateTo ?? 'admins' } };
    state.gate = gate;
    const approved = this.approvals.filter((a) => a.decision === 'approve').length;
    await this.progress.advance('AWAITING_APPROVAL', {
      gate,
      audit: {
        type: kind === 'reminder' ? 'intent.gate_reminder' : 'intent.gate_escalated',
        actor: `policy:gate-${kind}`,
        data: {
          gate: 'release',
          deadline,
          onTimeout: ladder.onTimeout,
          approvals: approved,
          required: this.policy?.required ?? 1,
          ...(kind === 'escalation' && { escalatedTo: ladder.escalateTo ?? 'admins' }),
        },
      },
    });
  }

  /** The gate's review bundle; without one (storage failing past its retries) the gate still opens. */
  private async buildDrop(
    validation: ValidationSummary,
    { plan, artifacts }: { plan: Plan; artifacts: ArtifactRef[] },
  ): Promise<DropRef | undefined> {
    try {
      return await buildDrop({
        intentId: this.input.intentId,
        gate: 'release',
        version: 1,
        createdAt: now(),
        plan,
        artifacts,
        validation,
        ...(this.progress.state.usage && { usage: this.progress.state.usage }),
      });
    } catch (error) {
      if (isCancellation(error)) throw error;
      log.warn('the gate opens without its QuantumDrop', { reason: (error as Error).message });
      return undefined;
    }
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
