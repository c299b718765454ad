import { dirname } from 'node:path';
import ts from 'typescript';
import type { Finding } from '../../contracts/validation';
import { finding } from '../findings';
import { isCodeFile, isTypeScriptFile, type Project } from '../project';
import { withoutTypeScriptSuppressions } from './suppressions';

// Strict settings a reviewer would expect of generated code; no ambient types are trusted.
export const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  // JavaScript files join the program, so TypeScript importing them resolves; their own type errors are not reported.
  allowJs: true,
  checkJs: false,
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
  /**
   * Findings; diagnostics that only exist because third-party declarations are not installed for review
   * (TS2307/TS7016 on a package, TS7006/TS7031 on a parameter whose type would come from one) are `info`.
   */
  findings: Finding[];
  /** Files the compiler could not parse: their analysis is incomplete, so they are not assessed. */
  unparsed?: { path: string; reason: string }[];
}

/** Type-checks the project's TypeScript files in memory with the compiler API (default: no ambient types at all). */
export function typeCheck(project: Project, options: { nodeTypes?: boolean } = {}): TypeCheckResult {
  // Generated code may not switch the checker off: @ts-nocheck, @ts-ignore and @ts-expect-error are neutralised.
  const sources = new Map(
    project.files.map((file) => [`${ROOT}/${file.path}`, withoutTypeScriptSuppressions(file.content)]),
  );
  const typescript = project.files.filter((file) => isTypeScriptFile(file.path)).map((file) => `${ROOT}/${file.path}`);
  if (typescript.length === 0) return { filesChecked: 0, diagnostics: [], findings: [] };
  const javascript = project.files
    .filter((file) => isCodeFile(file.path) && !isTypeScriptFile(file.path))
    .map((file) => `${ROOT}/${file.path}`);

  const compilerOptions = {
    ...(options.nodeTypes ? NODE_COMPILER_OPTIONS : COMPILER_OPTIONS),
    ...(usesLegacyDecorators(project) && { experimentalDecorators: true }),
  };
  const program = ts.createProgram(
    [...typescript, ...javascript],
    compilerOptions,
    inMemoryHost(sources, options.nodeTypes ?? false),
  );
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const gaps = dependencyTypeGaps(program, diagnostics);
  const unparsed = [...typescript, ...javascript].flatMap((fileName) => {
    const sourceFile = program.getSourceFile(fileName);
    const syntax = sourceFile ? program.getSyntacticDiagnostics(sourceFile) : [];
    return syntax.length
      ? [{ path: projectPath(fileName), reason: `syntax error: ${formatDiagnostic(syntax[0]!)}` }]
      : [];
  });
  return {
    filesChecked: typescript.length,
    ...(unparsed.length > 0 && { unparsed }),
    diagnostics: diagnostics.map(formatDiagnostic),
    findings: diagnostics.map((diagnostic) => {
      const item = toFinding(diagnostic);
      const module = gaps.get(diagnostic);
      if (module === undefined) return item;
      const { fingerprint: _fingerprint, ...rest } = item;
      return finding({ ...rest, severity: 'info', message: `${item.message} ${gapNote(diagnostic.code, module)}` });
    }),
  };
}

// Frameworks whose decorators (parameter decorators included) exist only under `experimentalDecorators`.
const LEGACY_DECORATOR_PACKAGES =
  /from\s+["'](@nestjs\/[\w-]+|typeorm|type-graphql|class-validator|class-transformer|inversify|routing-controllers|typedi|@angular\/core|mobx)["']/;

/**
 * The project's own tsconfig asks for legacy decorators, or it uses a framework that needs them
 * (NestJS, TypeORM, …): the review does not read tsconfig otherwise, and standard decorators would
 * report every parameter decorator (`@Body()`) as TS1206.
 */
function usesLegacyDecorators(project: Project): boolean {
  return project.files.some(
    (file) =>
      (/(^|\/)tsconfig[\w.-]*\.json$/.test(file.path) && /"experimentalDecorators"\s*:\s*true/.test(file.content)) ||
      (isTypeScriptFile(file.path) && LEGACY_DECORATOR_PACKAGES.test(file.content)),
  );
}

/** Marks the notes of dependency type gaps; scoring reads them to keep these out of the quality score. */
export const DEPENDENCY_TYPES_NOTE = 'third-party declarations not installed for review';

function gapNote(code: number, module: string): string {
  return code === 2307 || code === 7016
    ? `(${DEPENDENCY_TYPES_NOTE})`
    : `(its type would come from '${module}': ${DEPENDENCY_TYPES_NOTE})`;
}

/** A package specifier (not relative, not absolute, not a node: builtin). */
export const isPackageSpecifier = (specifier: string) =>
  !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.startsWith('node:') && specifier.length > 0;

/**
 * Diagnostics caused only by missing third-party declarations, with the package they come from:
 * "cannot find module" / "could not find a declaration file" for a package, and implicit-any parameters
 * (TS7006, TS7031) of callbacks handed to something imported from such a package (`app.get('/', (req, res) => …)`
 * with express untyped), or of functions typed by one (`const h: Handler = (event) => …`).
 */
function dependencyTypeGaps(program: ts.Program, diagnostics: readonly ts.Diagnostic[]): Map<ts.Diagnostic, string> {
  const gaps = new Map<ts.Diagnostic, string>();
  const unresolved = new Set<string>();
  for (const diagnostic of diagnostics) {
    if (diagnostic.code !== 2307 && diagnostic.code !== 7016) continue;
    const module = /'([^']+)'/.exec(ts.flattenDiagnosticMessageText(diagnostic.messageText, ' '))?.[1];
    if (!module || !isPackageSpecifier(module)) continue;
    unresolved.add(module);
    gaps.set(diagnostic, module);
  }
  if (unresolved.size === 0) return gaps;
  const checker = program.getTypeChecker();
  for (const diagnostic of diagnostics) {
    if ((diagnostic.code !== 7006 && diagnostic.code !== 7031) || !diagnostic.file || diagnostic.start === undefined)
      continue;
    const node = nodeAt(diagnostic.file, diagnostic.start);
    let parameter: ts.Node | undefined = node;
    while (parameter && !ts.isParameter(parameter)) parameter = parameter.parent;
    const fn = parameter?.parent;
    if (!fn) continue;
    const module = contextualModule(checker, fn, unresolved);
    if (module) gaps.set(diagnostic, module);
  }
  return gaps;
}

function nodeAt(sf: ts.SourceFile, position: number): ts.Node | undefined {
  let found: ts.Node | undefined;
  const visit = (node: ts.Node) => {
    if (position >= node.getStart(sf) && position < node.getEnd()) {
      found = node;
      node.forEachChild(visit);
    }
  };
  sf.forEachChild(visit);
  return found;
}

/** The unresolved package a function's parameter types would come from, if any. */
function contextualModule(checker: ts.TypeChecker, fn: ts.Node, unresolved: Set<string>): string | undefined {
  let current: ts.Node = fn;
  // A callback may sit in parentheses or as a property of an options object: `route({ handler: (req) => … })`.
  while (
    ts.isParenthesizedExpression(current.parent) ||
    ts.isPropertyAssignment(current.parent) ||
    ts.isObjectLiteralExpression(current.parent) ||
    ts.isArrayLiteralExpression(current.parent)
  )
    current = current.parent;
  const parent = current.parent;
  if ((ts.isCallExpression(parent) || ts.isNewExpression(parent)) && parent.expression !== current)
    return moduleOfExpression(checker, parent.expression, unresolved, 0);
  if (ts.isVariableDeclaration(parent) && parent.type && ts.isTypeReferenceNode(parent.type))
    return moduleOfEntity(checker, parent.type.typeName, unresolved);
  return undefined;
}

function moduleOfEntity(checker: ts.TypeChecker, name: ts.EntityName, unresolved: Set<string>): string | undefined {
  const root = ts.isIdentifier(name) ? name : leftmost(name);
  return moduleOfIdentifier(checker, root, unresolved, 0);
}

function leftmost(name: ts.QualifiedName): ts.Identifier {
  let current: ts.EntityName = name;
  while (ts.isQualifiedName(current)) current = current.left;
  return current;
}

/** Follows `app.get` → `app` → `express()` → `import express from 'express'`. */
function moduleOfExpression(
  checker: ts.TypeChecker,
  expression: ts.Expression,
  unresolved: Set<string>,
  depth: number,
): string | undefined {
  if (depth > 8) return undefined;
  if (ts.isIdentifier(expression)) return moduleOfIdentifier(checker, expression, unresolved, depth);
  if (
    ts.isPropertyAccessExpression(expression) ||
    ts.isElementAccessExpression(expression) ||
    ts.isCallExpression(expression) ||
    ts.isNewExpression(expression) ||
    ts.isParenthesizedExpression(expression) ||
    ts.isAwaitExpression(expression) ||
    ts.isNonNullExpression(expression) ||
    ts.isAsExpression(expression)
  ) {
    if (
      ts.isCallExpression(expression) &&
      ts.isIdentifier(expression.expression) &&
      expression.expression.text === 'require'
    ) {
      const spec = expression.arguments[0];
      return spec && ts.isStringLiteral(spec) && unresolved.has(spec.text) ? spec.text : undefined;
    }
    return moduleOfExpression(checker, expression.expression, unresolved, depth + 1);
  }
  return undefined;
}

function moduleOfIdentifier(
  checker: ts.TypeChecker,
  identifier: ts.Identifier,
  unresolved: Set<string>,
  depth: number,
): string | undefined {
  const symbol = checker.getSymbolAtLocation(identifier);
  for (const declaration of symbol?.declarations ?? []) {
    let node: ts.Node | undefined = declaration;
    while (
      node &&
      !ts.isImportDeclaration(node) &&
      !ts.isImportEqualsDeclaration(node) &&
      !ts.isVariableDeclaration(node)
    )
      node = node.parent;
    if (!node) continue;
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier))
      return unresolved.has(node.moduleSpecifier.text) ? node.moduleSpecifier.text : undefined;
    if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const spec = node.moduleReference.expression;
      return ts.isStringLiteral(spec) && unresolved.has(spec.text) ? spec.text : undefined;
    }
    if (ts.isVariableDeclaration(node) && node.initializer)
      return moduleOfExpression(checker, node.initializer, unresolved, depth + 1);
  }
  return undefined;
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
