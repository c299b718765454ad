import { reportKeys } from '../../adapters/storage/artifacts';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { ValidationSummary } from '../../contracts/validation';
import { typeCheck } from '../../validation/static/typescript';
import { loadProject, type ValidationInput } from './load-project';

export type ValidateProjectInput = ValidationInput;

/** The original layer-1 type-check (the workflow's `validateProject`), kept until the workflow uses the new layers. */
export async function validateProject(store: ObjectStore, input: ValidateProjectInput): Promise<ValidationSummary> {
  const result = typeCheck(await loadProject(store, input.artifacts), { nodeTypes: true });
  const reportKey = reportKeys(input.intentId).typecheck;
  const status = result.filesChecked === 0 ? 'not_assessed' : result.diagnostics.length === 0 ? 'passed' : 'failed';
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
}
