import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  condition,
  executeChild,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import type { ArtifactRef, CapsuleRef, ValidationSummary } from '../contracts/artifacts';
import { DecisionInput, type DecisionRecord } from '../contracts/decision';
import type { IntentStatus } from '../contracts/intent';
import type { Plan } from '../contracts/plan';
import { QlpGatePending, QlpStatus, QlpTasksDone } from '../contracts/search-attributes';
import type { IntentProjection, IntentState } from '../contracts/state';
import { agentActivity, ioActivity, readModelActivity } from './activity-options';
import { runDag } from './dag';
import { renderDetails } from './details';
import { failureMessage } from './failures';
import { decisionSignal, statusQuery, submitDecisionUpdate } from './messages';
import { taskWorkflow } from './task';

const { parseIntent } = proxyActivities<Activities>(agentActivity);
const { validateProject, packageCapsule } = proxyActivities<Activities>(ioActivity);
const { recordIntent } = proxyLocalActivities<Activities>(readModelActivity);

export interface IntentWorkflowInput {
  intentId: string;
  text: string;
  tenant: string;
  /** Fixed at submission, so a policy change never alters a running intent. */
  policy: { gateTimeout: Duration; autoApprove: boolean; maxConcurrency: number };
}

export interface IntentOutcome {
  status: IntentStatus;
  reason?: string;
  capsule?: CapsuleRef;
}

/** An intent, from text to capsule: plan → run tasks → validate → human gate → package. */
export async function intentWorkflow(input: IntentWorkflowInput): Promise<IntentOutcome> {
  const state: IntentState = { intentId: input.intentId, status: 'RECEIVED', tasks: [] };
  let seq = 0;
  let decision: DecisionRecord | undefined;

  const decide = (record: DecisionRecord): DecisionRecord => {
    decision = record;
    return record;
  };
  setHandler(statusQuery, () => state);
  setHandler(submitDecisionUpdate, (input) => decide({ ...DecisionInput.parse(input), via: 'update' }), {
    validator: (input) => {
      assertAwaitingDecision(state, decision);
      const parsed = DecisionInput.safeParse(input);
      if (!parsed.success) {
        throw ApplicationFailure.nonRetryable(
          parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          'InvalidDecision',
        );
      }
    },
  });
  setHandler(decisionSignal, (input) => {
    const parsed = DecisionInput.safeParse(input);
    if (state.gate?.state !== 'open' || decision || !parsed.success) {
      log.warn('decision signal ignored', { status: state.status, valid: parsed.success });
      return;
    }
    decide({ ...parsed.data, via: 'signal' });
  });

  /** Moves the intent to its next status everywhere people look: query, Web UI, read model. */
  async function advance(
    status: IntentStatus,
    step: Omit<Partial<IntentProjection>, 'intentId' | 'seq' | 'status'> = {},
  ) {
    state.status = status;
    state.reason = step.reason;
    const done = state.tasks.filter((t) => t.state === 'COMPLETED').length;
    upsertSearchAttributes([
      { key: QlpStatus, value: status },
      { key: QlpGatePending, value: status === 'AWAITING_APPROVAL' },
      { key: QlpTasksDone, value: done },
    ]);
    setCurrentDetails(renderDetails(state));
    await recordIntent({
      intentId: input.intentId,
      seq: ++seq,
      status,
      ...step,
      audit: step.audit ?? { type: `intent.${status.toLowerCase()}`, actor: 'workflow' },
    });
  }

  try {
    await advance('PLANNING');
    const plan = await parseIntent.executeWithOptions({ ...agentActivity, summary: 'Plan the intent into tasks' }, [
      { intentId: input.intentId, text: input.text },
    ]);
    state.plan = { planner: plan.planner, projectName: plan.projectName };
    state.tasks = plan.tasks.map((task) => ({ id: task.id, type: task.type, state: 'PENDING' }));
    await advance('EXECUTING', { plan });

    const artifacts = await runTasks(plan);

    await advance('VALIDATING');
    const validation = await validateProject.executeWithOptions(
      { ...ioActivity, summary: 'Type-check the generated project' },
      [{ intentId: input.intentId, artifacts }],
    );
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
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() => advance('CANCELLED', { reason: 'cancelled by request' }));
      throw error;
    }
    await advance('FAILED', { reason: failureMessage(error) });
    throw error;
  }

  async function runTasks(plan: Plan): Promise<ArtifactRef[]> {
    const { workflowId } = workflowInfo();
    const results = await runDag<ArtifactRef>(
      plan.tasks,
      async (task, done) => {
        setTaskState(task.id, 'RUNNING');
        const artifact = await executeChild(taskWorkflow, {
          workflowId: `${workflowId}/task-${task.id}`,
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
            },
          ],
        }).catch((error: unknown) => {
          setTaskState(task.id, isCancellation(error) ? 'CANCELLED' : 'FAILED', failureMessage(error));
          throw error;
        });
        setTaskState(task.id, 'COMPLETED');
        return artifact;
      },
      input.policy.maxConcurrency,
    );
    return plan.tasks.map((task) => results.get(task.id)!);
  }

  function setTaskState(taskId: string, taskState: IntentState['tasks'][number]['state'], error?: string) {
    const task = state.tasks.find((t) => t.id === taskId);
    if (task) Object.assign(task, { state: taskState, ...(error && { error }) });
    upsertSearchAttributes([{ key: QlpTasksDone, value: state.tasks.filter((t) => t.state === 'COMPLETED').length }]);
    setCurrentDetails(renderDetails(state));
  }

  /** The human gate: waits for a decision, or applies the auto-approve policy or the timeout. */
  async function awaitDecision(validation: ValidationSummary): Promise<DecisionRecord> {
    if (input.policy.autoApprove && validation.typecheck.status === 'passed') {
      decision = { decision: 'approve', approver: 'policy:auto-approve', reason: 'validation passed', via: 'policy' };
      state.gate = { state: 'decided', decision };
      return decision;
    }
    state.gate = { state: 'open' };
    await advance('AWAITING_APPROVAL', { validation, gate: state.gate });
    const decided = await condition(() => decision !== undefined, input.policy.gateTimeout);
    if (!decided) {
      decision = {
        decision: 'reject',
        approver: 'policy:gate-timeout',
        reason: `no decision within ${String(input.policy.gateTimeout)}`,
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
