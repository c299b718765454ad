import { ApplicationFailure, Context } from '@temporalio/activity';
import { runInSandbox, type SandboxProvider } from '../../adapters/sandbox';
import { reportKeys } from '../../adapters/storage/artifacts';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { SandboxLimits } from '../../contracts/sandbox';
import type { DynamicReport, DynamicSummary, LayerFailure } from '../../contracts/validation';
import { dynamicFindings, dynamicOutcome, dynamicProblems, sandboxBrief } from '../../validation/dynamic';
import type { ProjectAnalysis } from './analysis';
import { withHeartbeat } from '../heartbeat';
import { loadProject, type ValidationInput } from './load-project';

export type DynamicValidationInput = ValidationInput;

export interface DynamicValidationOptions {
  /** The worker's sandbox (or why there is none). */
  sandbox: SandboxProvider;
  limits: SandboxLimits;
  /** The project's type-check, shared with the type-check activity: when it passed, the sandbox only transpiles. */
  analysis: ProjectAnalysis;
}

/**
 * Layer 2: installs (offline), compiles and tests the generated project in the sandbox, stores the run
 * as a report. No isolation here means "not assessed", never running the code unprotected; a sandbox that
 * breaks is retried; cancelling the activity kills the run.
 */
export async function dynamicValidation(
  store: ObjectStore,
  options: DynamicValidationOptions,
  input: DynamicValidationInput,
): Promise<DynamicSummary | LayerFailure> {
  const choice = await options.sandbox.current();
  if (!choice.driver) return { status: 'not_assessed', reason: choice.reason };
  const driver = choice.driver;
  return withHeartbeat(async (setPhase) => {
    setPhase('loading project');
    const project = await loadProject(store, input.artifacts);
    setPhase('type-check (shared with layer 1)');
    const hostCheck = await options.analysis.typeCheck(project);
    setPhase(`starting the ${driver.name} sandbox`);
    const run = await runInSandbox(driver, {
      files: project.files,
      limits: options.limits,
      typecheckedOnHost: hostCheck.filesChecked > 0 && hostCheck.diagnostics.length === 0,
      signal: Context.current().cancellationSignal,
      slots: options.sandbox.slots,
      onQueued: (q) => setPhase(`waiting for a sandbox slot (${q.position} in line, ${q.running}/${q.max} running)`),
      onStep: (step) => setPhase(`${driver.name}: ${step}`),
    });
    if (run.status === 'error') {
      throw ApplicationFailure.retryable(`the ${driver.name} sandbox failed: ${run.reason}`, 'SandboxError');
    }
    const outcome = dynamicOutcome(run);
    const report: DynamicReport = {
      schemaVersion: 1,
      layer: 'dynamic',
      intentId: input.intentId,
      generatedAt: new Date().toISOString(),
      outcome,
      run,
      findings: dynamicFindings(run),
    };
    const reportKey = reportKeys(input.intentId).dynamic;
    setPhase('storing report');
    await store.putJson(reportKey, report);
    return {
      status: 'assessed',
      reportKey,
      ...sandboxBrief(run),
      problems: dynamicProblems(run),
      startupMs: run.startupMs,
    };
  });
}
