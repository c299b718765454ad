import { proxyLocalActivities, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { IntentStatus } from '../contracts/intent';
import type { Plan } from '../contracts/plan';
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
import type { IntentProjection, IntentState, TaskProgress } from '../contracts/state';
import { NO_USAGE, sumUsage, type LlmUsage } from '../contracts/usage';
import type { ValidationScoreSummary } from '../contracts/validation';
import { readModelActivity } from './activity-options';
import { renderDetails } from './details';
import { projectionRun } from './projection-run';

const { recordIntent, recordTask } = proxyLocalActivities<Activities>(readModelActivity);

/** What a step writes besides its status: the read model's columns and its audit entry. */
export type Step = Omit<Partial<IntentProjection>, 'intentId' | 'seq' | 'run' | 'status'>;

/**
 * The intent as everyone sees it: the `status` query's state, the Web UI (search attributes and
 * current details) and the read model in PostgreSQL. Each change goes to all three.
 */
export class IntentProgress {
  readonly state: IntentState;
  private seq = 0;

  constructor(readonly intentId: string) {
    this.state = { intentId, status: 'RECEIVED', tasks: [] };
  }

  /** Moves the intent to its next status everywhere people look: query, Web UI, read model. */
  async advance(status: IntentStatus, step: Step = {}): Promise<void> {
    this.state.status = status;
    this.state.reason = step.reason;
    this.publish();
    await recordIntent({
      intentId: this.intentId,
      seq: ++this.seq,
      run: projectionRun(),
      status,
      // Every write carries the run's whole view of validation and gate, so the first write of a run
      // that replaced another (a reset) leaves nothing of the old run's behind.
      validation: this.state.validation ?? null,
      gate: this.state.gate ?? null,
      ...step,
      audit: step.audit ?? { type: `intent.${status.toLowerCase()}`, actor: 'workflow' },
    });
  }

  planned(plan: Plan): void {
    this.state.plan = { planner: plan.planner, projectName: plan.projectName };
    this.state.tasks = plan.tasks.map((task) => ({ id: task.id, type: task.type, state: 'PENDING' }));
  }

  setTask(taskId: string, update: Partial<TaskProgress>): void {
    const task = this.state.tasks.find((t) => t.id === taskId);
    if (task) Object.assign(task, update);
    this.publish();
  }

  /** A task that never started reaches its final state here; running ones record their own. */
  async endUnstartedTask(taskId: string, final: 'SKIPPED' | 'CANCELLED'): Promise<void> {
    this.setTask(taskId, { state: final });
    await recordTask({ intentId: this.intentId, taskId, seq: 2, run: projectionRun(), state: final });
  }

  addUsage(usage: LlmUsage | undefined): void {
    this.state.usage = sumUsage(this.state.usage ?? NO_USAGE, usage ?? NO_USAGE);
  }

  /** The scores as Web UI columns; scores that could not be computed stay unset rather than reading as 0. */
  publishScores(score: ValidationScoreSummary): void {
    const { overall, security, quality, compliance } = score.scores;
    upsertSearchAttributes([
      { key: QlpValidation, value: score.verdict },
      ...(overall === null ? [] : [{ key: QlpScoreOverall, value: overall }]),
      ...(security === null ? [] : [{ key: QlpScoreSecurity, value: security }]),
      ...(quality === null ? [] : [{ key: QlpScoreQuality, value: quality }]),
      ...(compliance === null ? [] : [{ key: QlpScoreCompliance, value: compliance }]),
    ]);
  }

  private publish(): void {
    const { state } = this;
    const done = state.tasks.filter((t) => t.state === 'COMPLETED').length;
    upsertSearchAttributes([
      { key: QlpStatus, value: state.status },
      { key: QlpGatePending, value: state.status === 'AWAITING_APPROVAL' },
      { key: QlpProgress, value: state.tasks.length ? Math.floor((100 * done) / state.tasks.length) : 0 },
    ]);
    setCurrentDetails(renderDetails(state));
  }
}
