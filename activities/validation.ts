import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import type { ObjectStore } from '../adapters/storage/s3';
import type { ArtifactRef, ValidationSummary } from '../contracts/artifacts';
import { intentPrefix, loadFiles } from './artifacts';

export interface ValidateProjectInput {
  intentId: string;
  artifacts: ArtifactRef[];
}

// Strict settings a reviewer would expect of generated code. Ambient types come only from the curated
// offline dependency set (activities/agents/curated-dependencies.json): Node's, from this repository.
const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  lib: ['lib.es2022.d.ts'],
  types: ['node'],
  typeRoots: [join(dirname(require.resolve('@types/node/package.json')), '..')],
  skipLibCheck: true,
  noUnusedLocals: true,
};

export function createValidationActivities(store: ObjectStore) {
  return {
    /** Layer 1 (for now): the generated TypeScript type-checks under strict settings. */
    async validateProject(input: ValidateProjectInput): Promise<ValidationSummary> {
      const files = await loadFiles(store, input.artifacts);
      const workDir = await mkdtemp(join(tmpdir(), `qlp-validate-${input.intentId}-`));
      try {
        for (const file of files) {
          const target = join(workDir, file.path);
          await mkdir(dirname(target), { recursive: true });
          await writeFile(target, file.content);
        }
        const roots = files.filter((f) => /\.(ts|tsx)$/.test(f.path)).map((f) => join(workDir, f.path));
        const diagnostics = roots.length ? ts.getPreEmitDiagnostics(ts.createProgram(roots, COMPILER_OPTIONS)) : [];
        const messages = diagnostics.map((d) => formatDiagnostic(d, workDir));
        const reportKey = `${intentPrefix(input.intentId)}/reports/validation.json`;
        const status = roots.length === 0 ? 'not_assessed' : messages.length === 0 ? 'passed' : 'failed';
        await store.putJson(reportKey, {
          layer: 'typecheck',
          status,
          filesChecked: roots.length,
          diagnostics: messages,
        });
        return {
          typecheck: {
            status,
            filesChecked: roots.length,
            errorCount: messages.length,
            firstErrors: messages.slice(0, 5),
          },
          reportKey,
        };
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    },
  };
}

function formatDiagnostic(diagnostic: ts.Diagnostic, workDir: string): string {
  const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
  if (!diagnostic.file || diagnostic.start === undefined) return `TS${diagnostic.code}: ${text}`;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  return `${relative(workDir, diagnostic.file.fileName)}:${line + 1}:${character + 1} TS${diagnostic.code}: ${text}`;
}
