import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import ts from 'typescript';
import type { TaskType } from '../../contracts/plan';
import { pathConflictReason, pathFoldKey, unsafePathReason } from '../../adapters/storage/artifacts';
import curated from '../curated-dependencies.json';
import type { GeneratedFile } from '../generated-file';
import { findControlCharacters } from '../../validation/project';

/** What one agent may write. LLM output is untrusted input: anything else is refused with the reason. */
export interface OutputPolicy {
  extensions: readonly string[];
  /** Whole file names allowed regardless of extension (Dockerfile…). */
  names: readonly string[];
  maxFiles: number;
  maxFileBytes: number;
  maxTotalBytes: number;
}

const CODE = ['.ts', '.json', '.md'];
const base = { names: [] as string[], maxFiles: 20, maxFileBytes: 100_000, maxTotalBytes: 400_000 };

export const OUTPUT_POLICIES: Record<TaskType, OutputPolicy> = {
  codegen: { ...base, extensions: CODE },
  test: { ...base, extensions: ['.ts', '.json'] },
  infra: {
    ...base,
    extensions: ['.yaml', '.yml', '.json', '.md', '.sh', '.ts'],
    names: ['Dockerfile', '.dockerignore'],
  },
  analyze: { ...base, extensions: ['.md', '.json'], maxFiles: 10 },
  doc: { ...base, extensions: ['.md'], maxFiles: 10 },
};

export const CURATED_PACKAGES = new Set([
  ...Object.keys(curated.dependencies),
  ...Object.keys(curated.devDependencies),
]);
const BUILTINS = new Set(builtinModules);

/** Marks a problem as an unsafe path, so the final failure can say so (type UnsafeOutputPath). */
export const UNSAFE_PATH = 'unsafe path';

/**
 * Every reason the files break the policy: count, paths, file types, sizes, files that belong to
 * other tasks, and imports or package.json dependencies outside Node built-ins and the curated set.
 */
export function outputProblems(
  files: GeneratedFile[],
  policy: OutputPolicy,
  takenPaths: ReadonlySet<string> = new Set(),
): string[] {
  const problems: string[] = [];
  if (files.length === 0) problems.push('no files: produce at least one file');
  if (files.length > policy.maxFiles) problems.push(`${files.length} files; at most ${policy.maxFiles} are allowed`);
  const seen = new Set<string>();
  let total = 0;
  for (const file of files) {
    const label = JSON.stringify(file.path);
    const unsafe = unsafePathReason(file.path);
    if (unsafe) {
      problems.push(`${UNSAFE_PATH} ${label}: ${unsafe}`);
      continue;
    }
    if (seen.has(file.path)) problems.push(`${label} appears twice`);
    seen.add(file.path);
    if (takenPaths.has(file.path)) problems.push(`${label} belongs to a dependency's output; do not rewrite it`);
    const control = controlCharacterProblem(file);
    if (control) problems.push(control);
    const name = posix.basename(file.path);
    if (!policy.names.includes(name) && !policy.extensions.includes(posix.extname(name))) {
      problems.push(
        `${label}: file type not allowed for this task (allowed: ${[...policy.extensions, ...policy.names].join(', ')})`,
      );
    }
    const bytes = Buffer.byteLength(file.content, 'utf8');
    total += bytes;
    if (bytes > policy.maxFileBytes)
      problems.push(`${label} is ${bytes} bytes; at most ${policy.maxFileBytes} per file`);
    problems.push(...dependencyProblems(file));
  }
  if (total > policy.maxTotalBytes) problems.push(`${total} bytes in all; at most ${policy.maxTotalBytes}`);
  problems.push(...clashProblems(files, takenPaths));
  return problems;
}

/** Text only: control characters other than tab/newline/CR, or bidi and invisible ones in code, hide content. */
function controlCharacterProblem(file: GeneratedFile): string | undefined {
  const hit = findControlCharacters(file.path, file.content);
  if (!hit) return undefined;
  return `${JSON.stringify(file.path)} contains the control character ${hit.characters[0]} (line ${hit.line}); text files may hold only printable characters, tab, newline and CR`;
}

/** Paths that cannot be unpacked side by side: case or normalisation twins, a file used as a directory. */
function clashProblems(files: GeneratedFile[], takenPaths: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const earlier = [...takenPaths].map((path) => ({ path, own: false }));
  const byKey = new Map(earlier.map((entry) => [pathFoldKey(entry.path), entry]));
  for (const file of files) {
    if (unsafePathReason(file.path)) continue;
    for (const other of [...byKey.values()]) {
      if (other.path === file.path) continue;
      const reason = pathConflictReason(other.path, file.path);
      if (reason)
        problems.push(
          `${UNSAFE_PATH} ${JSON.stringify(file.path)} clashes with ${other.own ? '' : "a dependency's "}${JSON.stringify(other.path)}: ${reason}`,
        );
    }
    byKey.set(pathFoldKey(file.path), { path: file.path, own: true });
  }
  return problems;
}

function dependencyProblems(file: GeneratedFile): string[] {
  const label = JSON.stringify(file.path);
  if (/\.(ts|tsx|js|mjs|cjs)$/.test(file.path)) {
    const { importedFiles } = ts.preProcessFile(file.content, true, true);
    return importedFiles
      .map((imported) => imported.fileName)
      .filter((name) => !name.startsWith('.') && !isBuiltin(name) && !CURATED_PACKAGES.has(packageOf(name)))
      .map(
        (name) =>
          `${label} imports ${JSON.stringify(name)}, which is not available: use Node built-ins or relative modules`,
      );
  }
  if (posix.basename(file.path) === 'package.json') {
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(file.content) as Record<string, unknown>;
    } catch {
      return [`${label} is not valid JSON`];
    }
    return ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'].flatMap((field) =>
      Object.keys((manifest[field] ?? {}) as object)
        .filter((name) => !CURATED_PACKAGES.has(name))
        .map(
          (name) =>
            `${label} lists ${field} ${JSON.stringify(name)}, which is not in the curated set (${[...CURATED_PACKAGES].join(', ')})`,
        ),
    );
  }
  return [];
}

const isBuiltin = (name: string) => name.startsWith('node:') || BUILTINS.has(name.split('/')[0]!);
const packageOf = (name: string) =>
  name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!;
