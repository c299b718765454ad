import { workflowInfo } from '@temporalio/workflow';
import type { ProjectionRun } from '../contracts/state';

/**
 * The run writing a read-model projection, and the step's workflow time. Reading workflowInfo() and
 * the workflow clock issues no command, and local-activity inputs are not compared on replay, so this
 * is replay-safe.
 */
export function projectionRun(): ProjectionRun {
  const info = workflowInfo();
  // A reset run keeps the original WorkflowExecutionStarted event, and with it the original run id.
  const startedBy =
    info.runId !== info.originalExecutionRunId
      ? 'reset'
      : info.continuedFromExecutionRunId
        ? 'continue-as-new'
        : undefined;
  // Workflow time (the current workflow task's start, replayed as recorded) is what orders runs here.
  // eslint-disable-next-line no-restricted-syntax -- the replay-stable workflow clock is the point
  const at = new Date().toISOString();
  return { id: info.runId, at, ...(startedBy && { startedBy }) };
}
