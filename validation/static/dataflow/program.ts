import { dirname } from 'node:path';
import ts from 'typescript';
import { isCodeFile, scannableFiles, type Project, type ProjectFile } from '../../project';

/** A parsed JavaScript or TypeScript file of the project. */
export interface Unit {
  file: ProjectFile;
  sf: ts.SourceFile;
}

/**
 * The project's code as one compiler program, in memory: syntax trees plus the binder and checker, which
 * resolve each identifier to its declaration (scopes, destructuring, imports between project files).
 * No lib and no third-party declarations: the checker serves name resolution only, never types.
 * JavaScript is part of it (`allowJs`), so `.js/.cjs/.mjs` files are analysed like TypeScript.
 */
export interface AnalysisProgram {
  checker: ts.TypeChecker;
  units: Unit[];
}

const ROOT = '/__qlp_dataflow__';

export const ANALYSIS_OPTIONS: ts.CompilerOptions = {
  allowJs: true,
  checkJs: false,
  noLib: true,
  noEmit: true,
  types: [],
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  jsx: ts.JsxEmit.Preserve,
  noResolve: false,
};

export function scriptKind(path: string): ts.ScriptKind {
  if (/\.tsx$/.test(path)) return ts.ScriptKind.TSX;
  if (/\.jsx$/.test(path)) return ts.ScriptKind.JSX;
  if (/\.(js|mjs|cjs)$/.test(path)) return ts.ScriptKind.JS;
  return ts.ScriptKind.TS;
}

export function buildAnalysisProgram(project: Project): AnalysisProgram {
  const files = scannableFiles(project).filter((file) => isCodeFile(file.path));
  const byName = new Map(files.map((file) => [`${ROOT}/${file.path}`, file]));
  const directories = new Set<string>();
  for (const name of byName.keys()) {
    for (let dir = dirname(name); dir.startsWith(ROOT); dir = dirname(dir)) directories.add(dir);
  }
  const parsed = new Map<string, ts.SourceFile>();
  const host: ts.CompilerHost = {
    getSourceFile(fileName, languageVersion) {
      const file = byName.get(fileName);
      if (!file) return undefined;
      let sf = parsed.get(fileName);
      if (!sf) {
        sf = ts.createSourceFile(fileName, file.content, languageVersion, true, scriptKind(file.path));
        parsed.set(fileName, sf);
      }
      return sf;
    },
    getDefaultLibFileName: () => `${ROOT}/__no_lib__.d.ts`,
    writeFile: () => undefined,
    getCurrentDirectory: () => ROOT,
    getCanonicalFileName: (fileName) => fileName,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
    fileExists: (fileName) => byName.has(fileName),
    readFile: (fileName) => byName.get(fileName)?.content,
    directoryExists: (dir) => directories.has(dir),
    getDirectories: () => [],
    realpath: (path) => path,
  };
  const program = ts.createProgram([...byName.keys()], ANALYSIS_OPTIONS, host);
  const units = files.flatMap((file) => {
    const sf = program.getSourceFile(`${ROOT}/${file.path}`);
    return sf ? [{ file, sf }] : [];
  });
  return { checker: program.getTypeChecker(), units };
}

// ---- syntax helpers -------------------------------------------------------------------------

/** Parentheses, type assertions, `!`, `satisfies` and `await` do not change which value flows. */
export function strip(node: ts.Expression): ts.Expression {
  let current = node;
  for (;;) {
    if (
      ts.isParenthesizedExpression(current) ||
      ts.isAsExpression(current) ||
      ts.isNonNullExpression(current) ||
      ts.isSatisfiesExpression(current) ||
      ts.isTypeAssertionExpression(current) ||
      ts.isAwaitExpression(current)
    ) {
      current = current.expression;
    } else return current;
  }
}

/** `a.b['c'].d` → ['a', 'b', 'c', 'd']; a computed key that is not a literal is `*`; calls end the chain (`f().x` → undefined). */
export function chainOf(node: ts.Expression): string[] | undefined {
  const expression = strip(node);
  if (ts.isIdentifier(expression)) return [expression.text];
  if (expression.kind === ts.SyntaxKind.ThisKeyword) return ['this'];
  if (ts.isPropertyAccessExpression(expression)) {
    const base = chainOf(expression.expression);
    return base && [...base, expression.name.text];
  }
  if (ts.isElementAccessExpression(expression)) {
    const base = chainOf(expression.expression);
    const key = expression.argumentExpression;
    const name = ts.isStringLiteralLike(key) || ts.isNumericLiteral(key) ? key.text : '*';
    return base && [...base, name];
  }
  return undefined;
}

/** A callee's name with calls kept as `()`: `res.status(200).send` → `res.status().send`. */
export function calleeText(node: ts.Expression): string {
  const expression = strip(node);
  if (ts.isIdentifier(expression)) return expression.text;
  if (expression.kind === ts.SyntaxKind.ThisKeyword) return 'this';
  if (ts.isPropertyAccessExpression(expression)) return `${calleeText(expression.expression)}.${expression.name.text}`;
  if (ts.isElementAccessExpression(expression)) {
    const key = expression.argumentExpression;
    return `${calleeText(expression.expression)}.${ts.isStringLiteralLike(key) ? key.text : '[]'}`;
  }
  if (ts.isCallExpression(expression)) return `${calleeText(expression.expression)}()`;
  if (ts.isNewExpression(expression)) return `new ${calleeText(expression.expression)}()`;
  return '?';
}

export const lastName = (name: string) => name.slice(name.lastIndexOf('.') + 1);
export const rootName = (name: string) => name.split('.')[0]!.replace(/\(\)$/, '');

/** The text of a string literal (or a template without substitutions). */
export function literal(node: ts.Node | undefined): string | undefined {
  if (!node) return undefined;
  if (ts.isStringLiteralLike(node)) return node.text;
  return undefined;
}

export const isFunctionLike = (node: ts.Node): node is ts.FunctionLikeDeclaration =>
  ts.isFunctionDeclaration(node) ||
  ts.isFunctionExpression(node) ||
  ts.isArrowFunction(node) ||
  ts.isMethodDeclaration(node) ||
  ts.isConstructorDeclaration(node) ||
  ts.isGetAccessorDeclaration(node) ||
  ts.isSetAccessorDeclaration(node);

/** The nearest enclosing function, or the file for top-level code. */
export function enclosingFunction(node: ts.Node): ts.Node {
  for (let current = node.parent; current; current = current.parent) {
    if (isFunctionLike(current)) return current;
    if (ts.isSourceFile(current)) return current;
  }
  return node.getSourceFile();
}

export function walk(node: ts.Node, visit: (node: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => walk(child, visit));
}

export function lineOf(node: ts.Node): number {
  const sf = node.getSourceFile();
  return sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
}

/** The property `name` of an object literal (shorthand included). */
export function propertyOf(object: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
  for (const element of object.properties) {
    if (
      ts.isPropertyAssignment(element) &&
      (ts.isIdentifier(element.name) || ts.isStringLiteral(element.name)) &&
      element.name.text === name
    )
      return element.initializer;
    if (ts.isShorthandPropertyAssignment(element) && element.name.text === name) return element.name;
  }
  return undefined;
}

export const propertyNameText = (name: ts.PropertyName): string | undefined =>
  ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) || ts.isPrivateIdentifier(name)
    ? name.text
    : undefined;

/**
 * Local names bound to modules: `import fs from 'fs'`, `import * as cp from 'node:child_process'`,
 * `import { exec } from 'child_process'`, `const { exec } = require('child_process')`.
 * Value: module specifier (without `node:`) and the imported name (`*` for the module itself).
 */
export function moduleBindings(sf: ts.SourceFile): Map<string, { module: string; imported: string }> {
  const bindings = new Map<string, { module: string; imported: string }>();
  const moduleName = (text: string) => text.replace(/^node:/, '');
  walk(sf, (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && node.importClause) {
      const module = moduleName(node.moduleSpecifier.text);
      const clause = node.importClause;
      if (clause.name) bindings.set(clause.name.text, { module, imported: '*' });
      const named = clause.namedBindings;
      if (named && ts.isNamespaceImport(named)) bindings.set(named.name.text, { module, imported: '*' });
      if (named && ts.isNamedImports(named)) {
        for (const element of named.elements) {
          const imported = (element.propertyName ?? element.name).text;
          bindings.set(element.name.text, { module, imported: imported === 'default' ? '*' : imported });
        }
      }
    }
    if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const spec = literal(node.moduleReference.expression);
      if (spec) bindings.set(node.name.text, { module: moduleName(spec), imported: '*' });
    }
    if (ts.isVariableDeclaration(node) && node.initializer) {
      const init = strip(node.initializer);
      const required =
        ts.isCallExpression(init) && ts.isIdentifier(init.expression) && init.expression.text === 'require'
          ? literal(init.arguments[0])
          : ts.isPropertyAccessExpression(init) &&
              ts.isCallExpression(init.expression) &&
              ts.isIdentifier(init.expression.expression) &&
              init.expression.expression.text === 'require'
            ? literal(init.expression.arguments[0])
            : undefined;
      if (required === undefined) return;
      const module = moduleName(required);
      // `require('fs').promises` binds the promises API of fs.
      const member = ts.isPropertyAccessExpression(init) ? init.name.text : undefined;
      if (ts.isIdentifier(node.name)) bindings.set(node.name.text, { module, imported: member ?? '*' });
      else if (ts.isObjectBindingPattern(node.name)) {
        for (const element of node.name.elements) {
          if (!ts.isIdentifier(element.name)) continue;
          const imported = element.propertyName ? propertyNameText(element.propertyName) : element.name.text;
          bindings.set(element.name.text, { module, imported: imported ?? '*' });
        }
      }
    }
  });
  return bindings;
}
