import { reportKeys } from '../../adapters/storage/artifacts';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { ValidationSummary } from '../../contracts/validation';
import type { ProjectAnalysis } from './analysis';
import { withHeartbeat } from '../heartbeat';
import { loadProject, type ValidationInput } from './load-project';

export type ValidateProjectInput = ValidationInput;

/** The project's type-check: its summary is what the gate shows first; layer 1 reuses the same analysis. */
export async function validateProject(
  store: ObjectStore,
  analysis: ProjectAnalysis,
  input: ValidateProjectInput,
): Promise<ValidationSummary> {
  return withHeartbeat(async (setPhase) => {
    setPhase('loading project');
    const result = await analysis.typeCheck(await loadProject(store, input.artifacts));
    const reportKey = reportKeys(input.intentId).typecheck;
    const status = result.filesChecked === 0 ? 'not_assessed' : result.diagnostics.length === 0 ? 'passed' : 'failed';
    setPhase('storing report');
    await store.putJson(reportKey, {
      layer: 'typecheck',
      status,
      filesChecked: result.filesChecked,
      diagnostics: result.diagnostics,
    });
    return {
      typecheck: {
        status,
        filesChecked: result.filesChecked,
        errorCount: result.diagnostics.length,
        firstErrors: result.diagnostics.slice(0, 5),
      },
      reportKey,
    };
  });
}
