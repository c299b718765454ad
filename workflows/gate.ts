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
import {
  DecisionInput,
  type Approval,
  type DecisionRecord,
  type GateState,
  type IgnoredDecision,
  type PlanEdit,
} from '../contracts/decision';
import { printable } from '../contracts/text';
import type { ValidationSummary } from '../contracts/validation';
import type { GateEscalation, IntentWorkflowInput } from '../contracts/workflow';
import { evaluateDecision, issues, type Evaluation } from './approvals';
import { applyPlanEdit, planDigest } from './plan-review';
import type { IntentSpend } from './spend';
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

type GateId = 'plan' | 'release';

/**
 * The human gates: the plan gate (before any agent runs, when the policy opens it) and the release gate
 * before packaging, reopened for each new version after changes were requested. Decisions arrive by the validated `submitDecision` update (API, CLI)
 * or the `decision` signal (Web UI, temporal CLI). For intents whose policy verifies identities, a
 * decision counts only when the API signed it for an approver of this tenant and for the content now
 * under review (workflows/approvals.ts); the policy may need several distinct approvers, and any
 * rejection ends the gate. Without a decision within the policy's timeout, the intent is rejected. The
 * update refuses a decision it does not take with a reason (nothing is recorded); a signal cannot be
 * refused, so one the gate does not take is recorded as ignored, with why.
 */
export class ReleaseGate {
  private decision: DecisionRecord | undefined;
  private approvals: Approval[] = [];
  private digest = NO_REVIEW_DIGEST;
  /** The gate open now (or last), the version under review, and the plan the plan gate shows. */
  private current: GateId = 'release';
  private version = 1;
  private plan: Plan | undefined;
  /** Who may decide the open gate: approvers, widened by an escalation that names a role. */
  private deciders: string[] = ['approver'];
  /** The timeout cancelled the intent (the tenant's ladder says so) rather than rejecting it. */
  cancelsIntent = false;

  constructor(
    private readonly progress: IntentProgress,
    private readonly input: IntentWorkflowInput,
    private readonly spend?: IntentSpend,
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
      return this.admissible({ ok: true, approval: legacyApproval(parsed.data, via) });
    }
    const ctx = {
      input: this.input,
      policy: this.policy,
      digest: this.digest,
      approvals: this.approvals,
      now: now(),
      gate: this.current,
      roles: this.deciders,
    };
    const evaluation = evaluateDecision(message, via, ctx);
    return evaluation.ok ? this.admissible(evaluation) : evaluation;
  }

  /** What only this gate takes: plan edits at the plan gate; request_changes at the release gate, within limits. */
  private admissible(evaluation: Evaluation & { ok: true }): Evaluation {
    const { decision, planEdit } = evaluation.approval;
    const refuse = (reason: string): Evaluation => ({ ok: false, type: 'InvalidDecision', reason });
    if (planEdit && this.current !== 'plan') return refuse('planEdit is for the plan gate; this is the release gate');
    if (planEdit && this.plan && decision === 'approve') {
      const edited = applyPlanEdit(this.plan, planEdit);
      if (!edited.ok) return refuse(edited.reason);
    }
    if (decision !== 'request_changes') return evaluation;
    if (this.current === 'plan')
      return refuse('request_changes is for the release gate: edit the plan (planEdit) or reject it');
    const max = this.input.policy.maxVersions ?? 1;
    if (this.version >= max) {
      return {
        ok: false,
        type: 'RevisionLimit',
        reason: `this is version ${this.version} of at most ${max}: approve or reject`,
      };
    }
    if (this.spend && !this.spend.withinBudget()) {
      return { ok: false, type: 'RevisionLimit', reason: "the intent's LLM budget is spent: approve or reject" };
    }
    return evaluation;
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
      const { decision, name: approver, reason, via, decidedAt, changes, planEdit } = approval;
      return (this.decision = {
        decision,
        approver,
        ...(reason && { reason }),
        ...(changes && { changes }),
        ...(planEdit && { planEdit }),
        via,
        decidedAt,
      });
    }
    this.approvals.push(approval);
    const approvedBy = this.approvals.filter((a) => a.decision === 'approve');
    const ends = approval.decision !== 'approve'; // a rejection or a request for changes ends the gate at once
    const deciding = ends ? [approval] : approvedBy;
    const record = decisionRecord(deciding, approval);
    const gate = { ...this.progress.state.gate!, approvals: [...this.approvals] };
    this.progress.state.gate = gate;
    if (ends || approvedBy.length >= this.policy.required) {
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
    const {
      approver,
      decision,
      reason: said,
    } = typeof sent === 'object' && sent !== null
      ? (sent as { approver?: unknown; decision?: unknown; reason?: unknown })
      : { approver: undefined, decision: undefined, reason: undefined };
    const entry: IgnoredDecision = {
      at: now(),
      reason: printable(reason, 500),
      ...(typeof approver === 'string' && { approver: printable(approver, 200) }),
      ...(typeof decision === 'string' && { decision: printable(decision, 40) }),
      ...(typeof said === 'string' && { sentReason: printable(said, 500) }),
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
        data: {
          via: 'signal',
          reason: entry.reason,
          ...(entry.decision && { decision: entry.decision }),
          ...(entry.sentReason && { sentReason: entry.sentReason }),
        },
      },
    });
  }

  /**
   * The plan gate: shows the plan (its digest is what approvers sign) and waits. Approval may edit the
   * plan (drop tasks, reword them); a rejection or the timeout ends the intent before any agent ran.
   */
  async decidePlan(plan: Plan): Promise<{ decision: DecisionRecord; plan: Plan }> {
    this.plan = plan;
    this.reopen('plan', planDigest(plan));
    // The plan goes to the read model now (its tasks, the plan.ready webhook): approvers review it there.
    const decision = await this.wait({ plan });
    if (decision.decision !== 'approve') return { decision, plan };
    const edited = applyPlanEdit(plan, decision.planEdit);
    return { decision, plan: edited.ok ? edited.plan : plan };
  }

  /** The release gate for one version: waits for a decision, or applies the auto-approve policy or the timeout. */
  async decide(
    validation: ValidationSummary,
    review: { plan: Plan; artifacts: ArtifactRef[]; previousArtifacts?: ArtifactRef[] },
    version = 1,
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
      state.gate = { state: 'decided', decision, ...this.carried() };
      return decision;
    }
    this.version = version;
    this.reopen('release', validation.score?.digest?.review ?? NO_REVIEW_DIGEST);
    // The QuantumDrop: what the approvers review, as one bundle (diff, plan, findings, tests, cost).
    const drop = patched('quantum-drop') ? await this.buildDrop(validation, review) : undefined;
    if (drop) state.gate = { ...state.gate!, drop };
    return this.wait({ validation });
  }

  /** Opens `id` for `digest`: a fresh decision and approvals, the gates decided before it kept in its history. */
  private reopen(id: GateId, digest: string): void {
    const { state } = this.progress;
    const carried = this.carried();
    this.current = id;
    this.decision = undefined;
    this.approvals = [];
    this.digest = digest;
    this.deciders = ['approver'];
    // What the Web UI's details show an ops person: which gate, until when, who, and what to send.
    const deadline = new Date(Date.parse(now()) + msToNumber(this.input.policy.gateTimeout)).toISOString();
    const maxVersions = this.input.policy.maxVersions;
    const shown = {
      id,
      deadline,
      ...(id === 'release' && maxVersions !== undefined && { version: this.version, maxVersions }),
      ...carried,
    };
    state.gate = this.policy
      ? {
          state: 'open',
          ...shown,
          roles: [...this.deciders],
          unsignedSignals: this.policy.unauthenticatedSignals,
          digest: this.digest,
          required: this.policy.required,
          approvals: [],
          selfApproval: this.policy.allowSelfApproval,
        }
      : { state: 'open', ...shown };
  }

  /** The history a gate carries: every gate decided before it (none before the plan gate and versions existed). */
  private carried(): Pick<GateState, 'history'> {
    const previous = this.progress.state.gate;
    if (!previous?.decision || previous.state === 'open') return previous?.history ? { history: previous.history } : {};
    const past = {
      id: previous.id ?? 'release',
      ...(previous.version && { version: previous.version }),
      ...(previous.digest && { digest: previous.digest }),
      decision: previous.decision,
      ...(previous.drop && { drop: previous.drop }),
    };
    return { history: [...(previous.history ?? []), past] };
  }

  /** Publishes the open gate and waits for its decision, the ladder's steps, or the timeout. */
  private async wait(step: { validation?: ValidationSummary; plan?: Plan }): Promise<DecisionRecord> {
    const { state } = this.progress;
    const { gateTimeout } = this.input.policy;
    const opened = Date.parse(now());
    const deadline = state.gate!.deadline!;
    const ladder = this.policy?.escalation && patched('gate-escalation') ? this.policy.escalation : undefined;
    if (ladder) state.gate = { ...state.gate!, onTimeout: ladder.onTimeout };
    await this.progress.advance('AWAITING_APPROVAL', { ...step, gate: state.gate });
    const decided = () => this.decision !== undefined;
    const summary = `${this.current} gate: rejects at ${deadline} unless decided`;
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
      state.gate = { ...state.gate!, state: 'timed_out', decision };
      return decision;
    }
    const decision = this.decision!;
    state.gate = { ...state.gate!, state: 'decided', decision };
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
        (await condition(decided, step.at - waited, { summary: `${this.current} gate: ${step.kind} at ${at}` }))
      )
        return true;
      waited = step.at;
      await this.climbed(step.kind, ladder, deadline);
    }
    const end = ladder.onTimeout === 'cancel' ? 'cancels the intent' : 'rejects';
    return condition(decided, timeout - waited, {
      summary: `${this.current} gate: ${end} at ${deadline} unless decided`,
    });
  }

  /** A step of the ladder: recorded on the gate, in the audit trail (and so to webhooks), and in the details. */
  private async climbed(kind: 'reminder' | 'escalation', ladder: GateEscalation, deadline: string): Promise<void> {
    const { state } = this.progress;
    const at = now();
    if (kind === 'escalation' && ladder.escalateRole && !this.deciders.includes(ladder.escalateRole)) {
      this.deciders = [...this.deciders, ladder.escalateRole];
    }
    const gate =
      kind === 'reminder'
        ? { ...state.gate!, remindedAt: at }
        : { ...state.gate!, roles: [...this.deciders], escalated: { at, to: ladder.escalateTo ?? 'admins' } };
    state.gate = gate;
    const approved = this.approvals.filter((a) => a.decision === 'approve').length;
    await this.progress.advance('AWAITING_APPROVAL', {
      gate,
      audit: {
        type: kind === 'reminder' ? 'intent.gate_reminder' : 'intent.gate_escalated',
        actor: `policy:gate-${kind}`,
        data: {
          gate: this.current,
          deadline,
          onTimeout: ladder.onTimeout,
          approvals: approved,
          required: this.policy?.required ?? 1,
          ...(kind === 'escalation' && { escalatedTo: ladder.escalateTo ?? 'admins', mayDecide: this.deciders }),
        },
      },
    });
  }

  /** The gate's review bundle; without one (storage failing past its retries) the gate still opens. */
  private async buildDrop(
    validation: ValidationSummary,
    { plan, artifacts, previousArtifacts }: { plan: Plan; artifacts: ArtifactRef[]; previousArtifacts?: ArtifactRef[] },
  ): Promise<DropRef | undefined> {
    try {
      return await buildDrop({
        intentId: this.input.intentId,
        gate: 'release',
        version: this.version,
        createdAt: now(),
        plan,
        artifacts,
        ...(previousArtifacts && { previousArtifacts }),
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
    ...(last.changes && { changes: last.changes }),
    ...(planEditOf(deciding) && { planEdit: planEditOf(deciding) }),
    via: last.via,
    decidedAt: last.decidedAt,
    approvals: deciding,
    ...(last.digest && { digest: last.digest }),
    authenticated: deciding.every((a) => a.method !== 'unauthenticated'),
  };
}

/** The plan edits of every approver who approved the plan, as one edit (later descriptions win). */
function planEditOf(deciding: Approval[]): PlanEdit | undefined {
  const edits = deciding.map((a) => a.planEdit).filter((e): e is PlanEdit => e !== undefined);
  if (edits.length === 0) return undefined;
  return {
    remove: [...new Set(edits.flatMap((e) => e.remove ?? []))],
    describe: edits.flatMap((e) => e.describe ?? []),
  };
}
