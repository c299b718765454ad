import type { Duration } from '@temporalio/common';
import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  condition,
  executeChild,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ArtifactRef, CapsuleRef, ValidationSummary } from '../contracts/artifacts';
import { addUsage, budgetAllows, NOTHING_SPENT, UNLIMITED, type Budget, type Spend } from '../contracts/budget';
import { DecisionInput, type DecisionRecord } from '../contracts/decision';
import { terminalStatuses, type IntentStatus } from '../contracts/intent';
import type { Plan, PlannedTask } from '../contracts/plan';
import {
  QlpGatePending,
  QlpProgress,
  QlpScoreCompliance,
  QlpScoreOverall,
  QlpScoreQuality,
  QlpScoreSecurity,
  QlpStatus,
  QlpValidation,
} from '../contracts/search-attributes';
import type { IntentProjection, IntentState, TaskProgress, TaskState } from '../contracts/state';
import { NO_USAGE, sumUsage, type LlmUsage } from '../contracts/usage';
import type { LayerFailure, Thresholds } from '../contracts/validation';
import type { BuiltInFramework } from '../validation/compliance/schema';
import {
  agentActivity,
  complianceActivity,
  dynamicValidationActivity,
  ioActivity,
  readModelActivity,
  scoringActivity,
  staticReviewActivity,
} from './activity-options';
import { runDag, type FailurePolicy } from './dag';
import { renderDetails } from './details';
import { failureMessage } from './failures';
import { cancelIntentUpdate, decisionSignal, statusQuery, submitDecisionUpdate, type CancelRequest } from './messages';
import { taskWorkflow } from './task';

const { parseIntent } = proxyActivities<Activities>(agentActivity);
const { validateProject, packageCapsule } = proxyActivities<Activities>(ioActivity);
const { recordIntent, recordTask } = proxyLocalActivities<Activities>(readModelActivity);
const { staticReview } = proxyActivities<Activities>(staticReviewActivity);
const { complianceReview } = proxyActivities<Activities>(complianceActivity);
const { scoreValidation } = proxyActivities<Activities>(scoringActivity);
const { dynamicValidation } = proxyActivities<Activities>(dynamicValidationActivity);

export interface IntentPolicy {
  gateTimeout: Duration;
  autoApprove: boolean;
  maxConcurrency: number;
  maxPlanTasks: number;
  failurePolicy: FailurePolicy;
  /** LLM spend cap for the whole intent; checked here before every LLM activity, and by the ledger.
   *  Absent in intents started before budgets existed: those run unlimited, as they were submitted. */
  budget?: Budget;
  /** Score thresholds and the compliance frameworks that apply (absent before validation layers existed). */
  validation?: { thresholds: Thresholds; frameworks: BuiltInFramework[] };
}

export interface IntentWorkflowInput {
  intentId: string;
  text: string;
  tenant: string;
  /** Fixed at submission, so a policy change never alters a running intent. */
  policy: IntentPolicy;
}

export interface IntentOutcome {
  status: IntentStatus;
  reason?: string;
  capsule?: CapsuleRef;
}

/** An intent, from text to capsule: plan → run tasks → validate → human gate → package. */
export async function intentWorkflow(input: IntentWorkflowInput): Promise<IntentOutcome> {
  const { policy } = input;
  const state: IntentState = { intentId: input.intentId, status: 'RECEIVED', tasks: [] };
  // Everything the intent does runs in this scope, so a cancel request can stop it from a handler.
  const body = new CancellationScope();
  let seq = 0;
  let decision: DecisionRecord | undefined;
  let cancelRequest: CancelRequest | undefined;
  // What the intent's LLM calls have cost so far: workflow state, so crashes and replays keep it.
  let spent: Spend = NOTHING_SPENT;

  setHandler(statusQuery, () => state);
  setHandler(submitDecisionUpdate, (d) => (decision = { ...DecisionInput.parse(d), via: 'update' }), {
    validator: (d) => {
      assertAwaitingDecision(state, decision);
      const parsed = DecisionInput.safeParse(d);
      if (!parsed.success) {
        const reasons = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
        throw ApplicationFailure.nonRetryable(reasons, 'InvalidDecision');
      }
    },
  });
  setHandler(decisionSignal, (d) => {
    const parsed = DecisionInput.safeParse(d);
    if (state.gate?.state !== 'open' || decision || !parsed.success) {
      log.warn('decision signal ignored', { status: state.status, valid: parsed.success });
      return;
    }
    decision = { ...parsed.data, via: 'signal' };
  });
  setHandler(
    cancelIntentUpdate,
    (request) => {
      cancelRequest = request;
      body.cancel();
      return { status: state.status };
    },
    {
      validator: (_request) => {
        if (terminalStatuses.includes(state.status) || state.status === 'PACKAGING' || cancelRequest) {
          throw ApplicationFailure.nonRetryable(
            `intent is ${cancelRequest ? 'already being cancelled' : state.status}; it can no longer be cancelled`,
            'NotCancellable',
          );
        }
      },
    },
  );

  /** Moves the intent to its next status everywhere people look: query, Web UI, read model. */
  async function advance(
    status: IntentStatus,
    step: Omit<Partial<IntentProjection>, 'intentId' | 'seq' | 'status'> = {},
  ) {
    state.status = status;
    state.reason = step.reason;
    publishProgress();
    await recordIntent({
      intentId: input.intentId,
      seq: ++seq,
      status,
      ...step,
      audit: step.audit ?? { type: `intent.${status.toLowerCase()}`, actor: 'workflow' },
    });
  }

  function publishProgress() {
    const done = state.tasks.filter((t) => t.state === 'COMPLETED').length;
    upsertSearchAttributes([
      { key: QlpStatus, value: state.status },
      { key: QlpGatePending, value: state.status === 'AWAITING_APPROVAL' },
      { key: QlpProgress, value: state.tasks.length ? Math.floor((100 * done) / state.tasks.length) : 0 },
    ]);
    setCurrentDetails(renderDetails(state));
  }

  try {
    return await body.run(async () => {
      await advance('PLANNING');
      assertWithinBudget();
      const plan = await parseIntent.executeWithOptions({ ...agentActivity, summary: 'Plan the intent into tasks' }, [
        { intentId: input.intentId, text: input.text, budget: policy.budget },
      ]);
      recordUsage(plan.usage);
      if (plan.tasks.length > policy.maxPlanTasks) {
        throw ApplicationFailure.nonRetryable(
          `the plan has ${plan.tasks.length} tasks; the limit is ${policy.maxPlanTasks} (MAX_PLAN_TASKS)`,
          'PlanTooLarge',
        );
      }
      state.plan = { planner: plan.planner, projectName: plan.projectName };
      state.tasks = plan.tasks.map((task) => ({ id: task.id, type: task.type, state: 'PENDING' }));
      await advance('EXECUTING', { plan });

      const artifacts = await runTasks(plan);

      await advance('VALIDATING');
      const validation = await validate(artifacts);
      state.validation = validation;

      const approval = await awaitDecision(validation);
      if (approval.decision === 'reject') {
        await advance('REJECTED', {
          reason: approval.reason,
          gate: state.gate,
          audit: { type: 'intent.rejected', actor: approval.approver, data: { via: approval.via } },
        });
        return { status: 'REJECTED', reason: approval.reason };
      }

      await advance('PACKAGING', {
        gate: state.gate,
        validation, // auto-approved intents never recorded it at the gate
        audit: {
          type: 'intent.approved',
          actor: approval.approver,
          data: { via: approval.via, reason: approval.reason },
        },
      });
      const { workflowId, runId } = workflowInfo();
      const capsule = await packageCapsule.executeWithOptions(
        { ...ioActivity, summary: 'Build the capsule and upload it' },
        [
          {
            capsuleId: uuid4(),
            intentId: input.intentId,
            intentText: input.text,
            version: 1,
            plan,
            artifacts,
            validation,
            approval,
            workflow: { workflowId, runId },
          },
        ],
      );
      state.capsule = capsule;
      await advance('COMPLETED', { capsule });
      return { status: 'COMPLETED', capsule };
    });
  } catch (error) {
    if (isCancellation(error)) {
      const by = cancelRequest?.requestedBy ?? 'Temporal cancel request';
      const reason = `cancelled by ${by}${cancelRequest?.reason ? `: ${cancelRequest.reason}` : ''}`;
      await CancellationScope.nonCancellable(() =>
        advance('CANCELLED', { reason, audit: { type: 'intent.cancelled', actor: by } }),
      );
      throw error;
    }
    await advance('FAILED', { reason: failureMessage(error) });
    throw error;
  }

  /** Runs the plan's tasks as child workflows; fails the intent by the policy if any task fails. */
  async function runTasks(plan: Plan): Promise<ArtifactRef[]> {
    const tasksScope = new CancellationScope();
    const outcome = await runDag<ArtifactRef>(plan.tasks, (task, done) => runTask(plan, task, done), {
      maxConcurrency: policy.maxConcurrency,
      failurePolicy: policy.failurePolicy,
      isCancellation,
      scope: { run: (fn) => tasksScope.run(fn), cancel: () => tasksScope.cancel() },
    });
    const failed = [...outcome.failed].map(([id, error]) => `${id}: ${failureMessage(error)}`);
    if (failed.length === 0) return plan.tasks.map((task) => outcome.results.get(task.id)!);

    // Tasks that never started get their final state here; running ones recorded their own.
    const notStarted = state.tasks.filter((t) => t.state === 'PENDING');
    for (const task of notStarted) {
      const final: TaskState = outcome.skipped.includes(task.id) ? 'SKIPPED' : 'CANCELLED';
      setTaskState(task.id, { state: final });
      await recordTask({ intentId: input.intentId, taskId: task.id, seq: 2, state: final });
    }
    if (policy.failurePolicy === 'fail-fast') {
      const cancelled = outcome.cancelled.length + notStarted.length;
      throw ApplicationFailure.nonRetryable(
        `task ${failed[0]}${cancelled ? `; ${cancelled} other task(s) cancelled (fail-fast)` : ''}`,
        'TaskFailed',
      );
    }
    throw ApplicationFailure.nonRetryable(
      `partial failure: ${failed.length} of ${plan.tasks.length} tasks failed (${failed.join('; ')})` +
        (outcome.skipped.length ? `; skipped because they depend on a failed task: ${outcome.skipped.join(', ')}` : ''),
      'PartialFailure',
    );
  }

  /**
   * Type-check, then (for intents started since the layers existed) static review, compliance and the
   * sandboxed build and tests side by side, and the scores. A layer that cannot run is "not assessed", never a pass.
   */
  async function validate(artifacts: ArtifactRef[]): Promise<ValidationSummary> {
    const refs = { intentId: input.intentId, artifacts };
    const typecheck = validateProject.executeWithOptions(
      { ...ioActivity, summary: 'Type-check the generated project' },
      [refs],
    );
    if (!patched('validation-layers')) return typecheck;
    const notAssessed = (error: unknown): LayerFailure => {
      if (isCancellation(error)) throw error;
      return { status: 'not_assessed', reason: failureMessage(error) };
    };
    // Intents started before layer 2 existed replay without it.
    const dynamic = patched('dynamic-validation')
      ? dynamicValidation
          .executeWithOptions({ ...dynamicValidationActivity, summary: 'Layer 2: build and tests in the sandbox' }, [
            refs,
          ])
          .catch(notAssessed)
      : undefined;
    const [summary, staticSummary, compliance, dynamicSummary] = await Promise.all([
      typecheck,
      staticReview
        .executeWithOptions({ ...staticReviewActivity, summary: 'Layer 1: static review' }, [refs])
        .catch(notAssessed),
      complianceReview
        .executeWithOptions({ ...complianceActivity, summary: 'Layer 3: compliance' }, [
          { ...refs, frameworks: policy.validation?.frameworks },
        ])
        .catch(notAssessed),
      dynamic,
    ]);
    const score = await scoreValidation.executeWithOptions(
      { ...scoringActivity, summary: 'Scores, report and SARIF' },
      [
        {
          intentId: input.intentId,
          static: staticSummary,
          compliance,
          ...(dynamicSummary && { dynamic: dynamicSummary }),
          thresholds: policy.validation?.thresholds,
        },
      ],
    );
    // Scores that could not be computed stay unset rather than reading as 0.
    const { overall, security, quality, compliance: complianceScore } = score.scores;
    upsertSearchAttributes([
      { key: QlpValidation, value: score.verdict },
      ...(overall === null ? [] : [{ key: QlpScoreOverall, value: overall }]),
      ...(security === null ? [] : [{ key: QlpScoreSecurity, value: security }]),
      ...(quality === null ? [] : [{ key: QlpScoreQuality, value: quality }]),
      ...(complianceScore === null ? [] : [{ key: QlpScoreCompliance, value: complianceScore }]),
    ]);
    return { ...summary, static: staticSummary, compliance, ...(dynamicSummary && { dynamic: dynamicSummary }), score };
  }

  /** Refuses to start another LLM activity once the intent's budget is spent. */
  function assertWithinBudget() {
    const verdict = budgetAllows(policy.budget ?? UNLIMITED, spent, { tokens: 1, costUsd: 0 });
    if (!verdict.allowed) throw ApplicationFailure.nonRetryable(`budget exceeded: ${verdict.reason}`, 'BudgetExceeded');
  }

  function recordUsage(usage: LlmUsage | undefined) {
    spent = addUsage(spent, usage ?? NO_USAGE);
    state.usage = sumUsage(state.usage ?? NO_USAGE, usage ?? NO_USAGE);
  }

  async function runTask(plan: Plan, task: PlannedTask, done: ReadonlyMap<string, ArtifactRef>): Promise<ArtifactRef> {
    assertWithinBudget();
    setTaskState(task.id, { state: 'RUNNING' });
    try {
      const artifact = await executeChild(taskWorkflow, {
        workflowId: `${workflowInfo().workflowId}/task-${task.id}`,
        staticSummary: `${task.type}: ${task.description}`,
        staticDetails: task.dependencies.length ? `after ${task.dependencies.join(', ')}` : 'no dependencies',
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        args: [
          {
            intentId: input.intentId,
            intentText: input.text,
            projectName: plan.projectName,
            task,
            dependencies: task.dependencies.map((dep) => done.get(dep)!),
            budget: policy.budget,
          },
        ],
      });
      recordUsage(artifact.usage);
      const { attempt, startedAt, finishedAt } = artifact.run ?? {};
      setTaskState(task.id, { state: 'COMPLETED', attempts: attempt, startedAt, finishedAt });
      return artifact;
    } catch (error) {
      setTaskState(task.id, { state: isCancellation(error) ? 'CANCELLED' : 'FAILED', error: failureMessage(error) });
      throw error;
    }
  }

  function setTaskState(taskId: string, update: Partial<TaskProgress>) {
    const task = state.tasks.find((t) => t.id === taskId);
    if (task) Object.assign(task, update);
    publishProgress();
  }

  /** The human gate: waits for a decision, or applies the auto-approve policy or the timeout. */
  async function awaitDecision(validation: ValidationSummary): Promise<DecisionRecord> {
    const verdictPassed = validation.score ? validation.score.verdict === 'passed' : true;
    if (policy.autoApprove && validation.typecheck.status === 'passed' && verdictPassed) {
      decision = { decision: 'approve', approver: 'policy:auto-approve', reason: 'validation passed', via: 'policy' };
      state.gate = { state: 'decided', decision };
      return decision;
    }
    state.gate = { state: 'open' };
    await advance('AWAITING_APPROVAL', { validation, gate: state.gate });
    if (!(await condition(() => decision !== undefined, policy.gateTimeout))) {
      decision = {
        decision: 'reject',
        approver: 'policy:gate-timeout',
        reason: `no decision within ${String(policy.gateTimeout)}`,
        via: 'timeout',
      };
      state.gate = { state: 'timed_out', decision };
      return decision;
    }
    state.gate = { state: 'decided', decision };
    return decision!;
  }
}

function assertAwaitingDecision(state: IntentState, decision: DecisionRecord | undefined): void {
  if (state.gate?.state !== 'open' || decision) {
    throw ApplicationFailure.nonRetryable(
      `intent is ${state.status}${decision ? ' and already decided' : ''}, not awaiting a decision`,
      'NotAwaitingDecision',
    );
  }
}
