import { dirname } from 'node:path';
import ts from 'typescript';
import type { Finding } from '../../contracts/validation';
import { finding } from '../findings';
import { isTypeScriptFile, type Project } from '../project';

// Strict settings a reviewer would expect of generated code; no ambient types are trusted.
export const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  lib: ['lib.es2022.d.ts'],
  types: [],
  skipLibCheck: true,
  noUnusedLocals: true,
};

// The project is mounted at a virtual root: the compiler sees only its files, TypeScript's own libs
// and, when asked, Node's type declarations (@types/node and its undici-types) from this installation.
const ROOT = '/__qlp_project__';
const LIB_DIR = dirname(ts.getDefaultLibFilePath(COMPILER_OPTIONS));
const NODE_TYPES_DIR = dirname(require.resolve('@types/node/package.json'));
const TYPE_ROOT = dirname(NODE_TYPES_DIR);
const UNDICI_TYPES_DIR = dirname(require.resolve('undici-types/package.json', { paths: [NODE_TYPES_DIR] }));

/** Generated projects target Node 20: the static review checks them against its types, with CommonJS interop. */
export const NODE_COMPILER_OPTIONS: ts.CompilerOptions = {
  ...COMPILER_OPTIONS,
  types: ['node'],
  typeRoots: [TYPE_ROOT],
  esModuleInterop: true,
};

export interface TypeCheckResult {
  filesChecked: number;
  /** `path:line:col TSxxxx: message`, the format of the original type-check report. */
  diagnostics: string[];
  findings: Finding[];
}

/** Type-checks the project's TypeScript files in memory with the compiler API (default: no ambient types at all). */
export function typeCheck(project: Project, options: { nodeTypes?: boolean } = {}): TypeCheckResult {
  const sources = new Map(project.files.map((file) => [`${ROOT}/${file.path}`, file.content]));
  const roots = project.files.filter((file) => isTypeScriptFile(file.path)).map((file) => `${ROOT}/${file.path}`);
  if (roots.length === 0) return { filesChecked: 0, diagnostics: [], findings: [] };

  const compilerOptions = options.nodeTypes ? NODE_COMPILER_OPTIONS : COMPILER_OPTIONS;
  const program = ts.createProgram(roots, compilerOptions, inMemoryHost(sources, options.nodeTypes ?? false));
  const diagnostics = ts.getPreEmitDiagnostics(program);
  return {
    filesChecked: roots.length,
    diagnostics: diagnostics.map(formatDiagnostic),
    findings: diagnostics.map(toFinding),
  };
}

// Parsed lib and @types declarations, shared by every check: parsing them is most of a small
// project's type-check, and a SourceFile is immutable once parsed.
const libSourceFiles = new Map<string, ts.SourceFile | undefined>();

function inMemoryHost(sources: Map<string, string>, nodeTypes: boolean): ts.CompilerHost {
  const base = ts.createCompilerHost(COMPILER_OPTIONS, true);
  const readable = [LIB_DIR, ...(nodeTypes ? [NODE_TYPES_DIR, UNDICI_TYPES_DIR] : [])];
  const isLib = (fileName: string) => readable.some((dir) => fileName === dir || fileName.startsWith(`${dir}/`));
  // Type-root lookups walk the parent folders of the packages we expose.
  const libParents = nodeTypes ? [TYPE_ROOT, dirname(TYPE_ROOT), dirname(UNDICI_TYPES_DIR)] : [];
  const directories = new Set<string>();
  for (const path of sources.keys()) {
    for (let dir = dirname(path); dir.startsWith(ROOT); dir = dirname(dir)) directories.add(dir);
  }
  return {
    ...base,
    getCurrentDirectory: () => ROOT,
    fileExists: (fileName) => sources.has(fileName) || (isLib(fileName) && base.fileExists(fileName)),
    readFile: (fileName) => sources.get(fileName) ?? (isLib(fileName) ? base.readFile(fileName) : undefined),
    directoryExists: (dir) => directories.has(dir) || isLib(dir) || libParents.includes(dir),
    getDirectories: (dir) => (nodeTypes && dir === TYPE_ROOT ? ['node'] : []),
    realpath: (path) => path,
    getSourceFile(fileName, languageVersion) {
      const text = sources.get(fileName);
      if (text !== undefined) return ts.createSourceFile(fileName, text, languageVersion, true);
      if (!isLib(fileName)) return undefined;
      const key = `${String(languageVersion)}:${fileName}`;
      if (!libSourceFiles.has(key)) libSourceFiles.set(key, base.getSourceFile(fileName, languageVersion));
      return libSourceFiles.get(key);
    },
    writeFile: () => undefined,
  };
}

const projectPath = (fileName: string) => fileName.slice(ROOT.length + 1);

function formatDiagnostic(diagnostic: ts.Diagnostic): string {
  const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
  if (!diagnostic.file || diagnostic.start === undefined) return `TS${diagnostic.code}: ${text}`;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  return `${projectPath(diagnostic.file.fileName)}:${line + 1}:${character + 1} TS${diagnostic.code}: ${text}`;
}

function toFinding(diagnostic: ts.Diagnostic): Finding {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
  const position =
    diagnostic.file && diagnostic.start !== undefined
      ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
      : undefined;
  return finding({
    ruleId: `TS${diagnostic.code}`,
    tool: 'typescript',
    category: 'quality',
    // A compile error means the project does not build; warnings and suggestions cost less.
    severity: diagnostic.category === ts.DiagnosticCategory.Error ? 'medium' : 'low',
    message: message.length > 500 ? `${message.slice(0, 497)}...` : message,
    location:
      diagnostic.file && position
        ? { path: projectPath(diagnostic.file.fileName), line: position.line + 1, column: position.character + 1 }
        : undefined,
    remediation: 'Fix the compiler error; the project must type-check under strict settings.',
  });
}
