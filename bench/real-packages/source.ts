import ts from 'typescript';

// Reading a package's source as the advisories name it: lines of code (not blank, not comment) and the
// functions that enclose a line, named as the code assigns them (`Mount.prototype.getPath`, `exports.x`).

const parse = (path: string, content: string) =>
  ts.createSourceFile(
    path,
    content,
    ts.ScriptTarget.Latest,
    true,
    /\.tsx?$/.test(path) ? ts.ScriptKind.TS : ts.ScriptKind.JS,
  );

/** Lines with code on them: every syntax node marks its first and last line (literals all their lines). */
export function linesOfCode(path: string, content: string): number {
  const sf = parse(path, content);
  const lines = new Set<number>();
  const lineAt = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line;
  const visit = (node: ts.Node): void => {
    const start = lineAt(node.getStart(sf));
    const end = lineAt(Math.max(node.getStart(sf), node.end - 1));
    const literal = ts.isStringLiteralLike(node) || ts.isTemplateLiteral(node) || ts.isTemplateLiteralToken(node);
    if (literal) for (let line = start; line <= end; line++) lines.add(line);
    else lines.add(start).add(end);
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(sf, visit);
  return lines.size;
}

/** The text an expression names (`a.b.c`), or undefined for anything computed. */
function nameOf(node: ts.Node): string | undefined {
  if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) return node.text;
  if (ts.isStringLiteral(node) || ts.isNumericLiteral(node)) return node.text;
  if (ts.isPropertyAccessExpression(node)) {
    const base = nameOf(node.expression);
    return base && `${base}.${node.name.text}`;
  }
  if (node.kind === ts.SyntaxKind.ThisKeyword) return 'this';
  return undefined;
}

/** What a function (or object literal) is assigned to: `x = …`, `var x = …`, `{ x: … }`, `wrap(function …)`. */
function assignedName(node: ts.Node): string | undefined {
  let current = node;
  // Through wrappers: parentheses and calls that take the function (`baseRest(function …)`).
  while (ts.isParenthesizedExpression(current.parent) || ts.isCallExpression(current.parent)) current = current.parent;
  const parent = current.parent;
  if (ts.isVariableDeclaration(parent)) return nameOf(parent.name);
  if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken)
    return nameOf(parent.left);
  if (ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    const key = nameOf(parent.name);
    const owner = ts.isObjectLiteralExpression(parent.parent) ? assignedName(parent.parent) : undefined;
    return key && (owner ? `${owner}.${key}` : key);
  }
  return undefined;
}

function functionName(node: ts.Node): string | undefined {
  if (ts.isFunctionDeclaration(node)) return node.name?.text;
  if (ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) {
    const key = nameOf(node.name);
    const owner = ts.isClassLike(node.parent)
      ? node.parent.name?.text
      : ts.isObjectLiteralExpression(node.parent)
        ? assignedName(node.parent)
        : undefined;
    return key && (owner ? `${owner}.${key}` : key);
  }
  if (ts.isConstructorDeclaration(node))
    return ts.isClassLike(node.parent) ? `${node.parent.name?.text}.constructor` : undefined;
  if (ts.isFunctionExpression(node) || ts.isArrowFunction(node)) return node.name?.text ?? assignedName(node);
  return undefined;
}

/** Named functions enclosing a 1-based line, innermost first (anonymous callbacks are skipped). */
export function enclosingFunctions(path: string, content: string, line: number): string[] {
  const sf = parse(path, content);
  const lineStarts = sf.getLineStarts();
  const offset = lineStarts[line - 1];
  if (offset === undefined) return [];
  // The first code on the line, so a finding reported at column 1 still lands inside its statement.
  const lineEnd = lineStarts[line] ?? content.length;
  const text = content.slice(offset, lineEnd);
  const position = offset + (text.length - text.trimStart().length);
  const names: string[] = [];
  const visit = (node: ts.Node): void => {
    if (position < node.getStart(sf) || position >= node.end) return;
    const name = ts.isFunctionLike(node) ? functionName(node) : undefined;
    if (name) names.unshift(name);
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(sf, visit);
  return names;
}

/** True when a function named `target` is one of `names`: the whole name or its last segments. */
export const namesFunction = (names: string[], target: string) =>
  names.some((name) => name === target || name.endsWith(`.${target}`));
