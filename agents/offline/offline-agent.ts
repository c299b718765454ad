import type { PlannedTask } from '../../contracts/plan';
import type { GeneratedFile } from '../generated-file';
import { catalogueKinds, type OfflineSpec } from './catalogue';
import { codeFiles, docFiles, infraFiles, testFiles } from './generators';

/** The catalogue parameters a task carries, when the offline planner made it. */
export function offlineSpecOf(task: PlannedTask): OfflineSpec | undefined {
  const spec = task.metadata?.offline as OfflineSpec | undefined;
  return spec && (catalogueKinds as readonly string[]).includes(spec.kind) ? spec : undefined;
}

/** The files of one offline task, from its type: deterministic for the same parameters. */
export function generateOfflineFiles(spec: OfflineSpec, task: PlannedTask, intentText = ''): GeneratedFile[] {
  switch (task.type) {
    case 'codegen':
      return codeFiles(spec);
    case 'infra':
      return infraFiles(spec);
    case 'test':
      return testFiles(spec);
    default:
      return docFiles(spec, intentText);
  }
}
