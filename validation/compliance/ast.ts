import ts from 'typescript';
import { isCodeFile, scannableFiles, type Project, type ProjectFile } from '../project';

/** A parsed JavaScript/TypeScript file. Parsing is syntax-only: nothing is resolved or executed. */
export interface SourceUnit {
  file: ProjectFile;
  sf: ts.SourceFile;
}

export interface CheckContext {
  project: Project;
  /** Files small enough to scan, any type. */
  files: ProjectFile[];
  sources: SourceUnit[];
}

/** Where a check found a problem. */
export interface Hit {
  path: string;
  line: number;
  column?: number;
  message: string;
}

/** `applicable: false` means nothing the check looks at exists in the project (its controls are not applicable). */
export interface CheckOutcome {
  applicable: boolean;
  hits: Hit[];
}

export function buildContext(project: Project): CheckContext {
  const files = scannableFiles(project);
  const sources = files.filter((file) => isCodeFile(file.path)).map((file) => ({ file, sf: parse(file) }));
  return { project, files, sources };
}

function parse(file: ProjectFile): ts.SourceFile {
  const kind = /\.(tsx|jsx)$/.test(file.path)
    ? ts.ScriptKind.TSX
    : /\.(js|mjs|cjs)$/.test(file.path)
      ? ts.ScriptKind.JS
      : ts.ScriptKind.TS;
  return ts.createSourceFile(file.path, file.content, ts.ScriptTarget.Latest, true, kind);
}

/** Visits every node below `node`, depth first. */
export function walk(node: ts.Node, visit: (node: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => walk(child, visit));
}

/** Every node of a kind in a file. */
export function nodesOf<T extends ts.Node>(unit: SourceUnit, guard: (node: ts.Node) => node is T): T[] {
  const found: T[] = [];
  walk(unit.sf, (node) => {
    if (guard(node)) found.push(node);
  });
  return found;
}

export const calls = (unit: SourceUnit) => nodesOf(unit, ts.isCallExpression);

/** `a.b.c(...)` → `a.b.c`; `f(...)` → `f`; `x().y(...)` → `x().y`. */
export function calleeName(call: ts.CallExpression | ts.NewExpression): string {
  return expressionName(call.expression);
}

export function expressionName(expression: ts.Expression): string {
  if (ts.isIdentifier(expression)) return expression.text;
  if (ts.isPropertyAccessExpression(expression))
    return `${expressionName(expression.expression)}.${expression.name.text}`;
  if (ts.isElementAccessExpression(expression)) {
    const key = stringValue(expression.argumentExpression);
    return `${expressionName(expression.expression)}.${key ?? '[]'}`;
  }
  if (ts.isCallExpression(expression)) return `${calleeName(expression)}()`;
  if (expression.kind === ts.SyntaxKind.ThisKeyword) return 'this';
  if (ts.isParenthesizedExpression(expression) || ts.isAwaitExpression(expression))
    return expressionName(expression.expression);
  if (ts.isAsExpression(expression) || ts.isNonNullExpression(expression)) return expressionName(expression.expression);
  return '?';
}

export const lastPart = (name: string) => name.slice(name.lastIndexOf('.') + 1);

/** The text of a string literal or a template without substitutions; undefined for anything dynamic. */
export function stringValue(node: ts.Node | undefined): string | undefined {
  if (!node) return undefined;
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  return undefined;
}

/** The literal text of a string expression with its dynamic parts as `${}`: `"a" + x` → `a${}`. */
export function literalText(node: ts.Expression): string {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node))
    return node.head.text + node.templateSpans.map((span) => '${}' + span.literal.text).join('');
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken)
    return literalText(node.left) + literalText(node.right);
  if (ts.isParenthesizedExpression(node)) return literalText(node.expression);
  return '${}';
}

/** The non-literal parts of a string built by template or `+`. */
export function dynamicParts(node: ts.Expression): ts.Expression[] {
  if (ts.isTemplateExpression(node)) return node.templateSpans.map((span) => span.expression);
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    return [...dynamicParts(node.left), ...dynamicParts(node.right)];
  }
  if (ts.isParenthesizedExpression(node)) return dynamicParts(node.expression);
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isNumericLiteral(node)) return [];
  return [node];
}

/** Identifier and property names used in an expression, outside string literals; `skip` prunes subtrees. */
export function namesIn(node: ts.Node, skip: (node: ts.Node) => boolean = () => false): string[] {
  const names: string[] = [];
  const visit = (child: ts.Node) => {
    if (skip(child)) return;
    if (ts.isIdentifier(child) || ts.isPrivateIdentifier(child)) names.push(child.text);
    child.forEachChild(visit);
  };
  visit(node);
  return names;
}

/** The name a value is given: variable, property, parameter default, assignment target, or enclosing function. */
export function enclosingNames(node: ts.Node): string[] {
  const names: string[] = [];
  for (let current: ts.Node | undefined = node.parent; current && names.length < 4; current = current.parent) {
    if (ts.isVariableDeclaration(current) && ts.isIdentifier(current.name)) names.push(current.name.text);
    else if (ts.isPropertyAssignment(current) || ts.isPropertyDeclaration(current)) names.push(current.name.getText());
    else if (ts.isBinaryExpression(current) && current.operatorToken.kind === ts.SyntaxKind.EqualsToken)
      names.push(expressionName(current.left));
    else if ((ts.isFunctionDeclaration(current) || ts.isMethodDeclaration(current)) && current.name) {
      names.push(current.name.getText());
      break;
    } else if (ts.isSourceFile(current)) break;
  }
  return names;
}

/** The value of `name: value` in an object literal. */
export function property(object: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
  for (const element of object.properties) {
    if (ts.isPropertyAssignment(element) && propertyName(element.name) === name) return element.initializer;
    if (ts.isShorthandPropertyAssignment(element) && element.name.text === name) return element.name;
  }
  return undefined;
}

export function propertyName(name: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  return undefined;
}

export const isFalse = (node: ts.Node | undefined) => node?.kind === ts.SyntaxKind.FalseKeyword;
export const isTrue = (node: ts.Node | undefined) => node?.kind === ts.SyntaxKind.TrueKeyword;

/** The initializer of a `const`/`let` with this name in the same file (the nearest one declared before `at`). */
export function initializerOf(unit: SourceUnit, name: string, at: ts.Node): ts.Expression | undefined {
  let found: ts.Expression | undefined;
  walk(unit.sf, (node) => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.name.text === name &&
      node.initializer &&
      node.pos < at.pos
    ) {
      found = node.initializer;
    }
  });
  return found;
}

export function hitAt(unit: SourceUnit, node: ts.Node, message: string): Hit {
  const { line, character } = unit.sf.getLineAndCharacterOfPosition(node.getStart(unit.sf));
  return { path: unit.file.path, line: line + 1, column: character + 1, message };
}

/** Normalised identifier: lower case without separators, so `credit_card`, `creditCard` and `CREDIT-CARD` compare equal. */
export const normalise = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Module specifiers a file imports or requires. */
export function importsOf(unit: SourceUnit): string[] {
  const found: string[] = [];
  walk(unit.sf, (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    if (ts.isCallExpression(node) && calleeName(node) === 'require' && node.arguments[0]) {
      const value = stringValue(node.arguments[0]);
      if (value) found.push(value);
    }
  });
  return found;
}
