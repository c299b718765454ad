import ts from 'typescript';
import type { RuleHit } from './hits';
import { calleeText, chainOf, isFunctionLike, lastName, literal, strip, walk, type Unit } from './program';
import { isResponse } from './sinks';
import type { TaintEngine } from './taint';

const ERROR_NAME = /^(err|error|e|ex|exc|exception|reason|failure)$/i;
// Error properties that describe the failure's internals (file paths, SQL, hosts), not what the client did.
const DETAIL_PROPERTIES =
  /^(message|toString|sqlMessage|sql|detail|details|errors|original|parent|cause|response|config|errno|syscall|path|address)$/;
const DEBUG_CONDITION = /NODE_ENV|isDev|isDevelopment|development|debug|isProd|isProduction|production|expose|verbose/i;
// A branch that handles a known client-facing error: its message was written for the client.
const CLIENT_ERROR_CHECK =
  /instanceof\s+(?!Error\b)\w+|\.expose\b|isOperational|isJoi|isBoom|\.status(Code)?\s*(<\s*500|===?\s*4\d\d)|\.name\s*===?/;

/** Symbols of caught errors: catch clauses, `.catch(cb)`, `.on('error', cb)`, error middleware, `(err, …) =>` callbacks. */
function errorSymbols(engine: TaintEngine, unit: Unit): Set<ts.Symbol> {
  const symbols = new Set<ts.Symbol>();
  const add = (name: ts.BindingName | undefined) => {
    const symbol = name && ts.isIdentifier(name) ? engine.symbolOf(name) : undefined;
    if (symbol) symbols.add(symbol);
  };
  walk(unit.sf, (node) => {
    if (ts.isCatchClause(node)) add(node.variableDeclaration?.name);
    if (isFunctionLike(node)) {
      const [first] = node.parameters;
      // Express error middleware (err, req, res, next); a Node callback (err, value) with an error-like name.
      if (node.parameters.length === 4 && first) add(first.name);
      if (first && ts.isIdentifier(first.name) && ERROR_NAME.test(first.name.text) && ts.isCallExpression(node.parent))
        add(first.name);
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      const [first, second] = node.arguments;
      const callback =
        method === 'catch'
          ? first
          : method === 'then'
            ? second
            : method === 'on' && literal(first) === 'error'
              ? second
              : method === 'setErrorHandler'
                ? first
                : undefined;
      if (callback && isFunctionLike(callback)) add(callback.parameters[0]?.name);
    }
  });
  return symbols;
}

/** True when `node` sits in a branch that only runs in development, or handles a known client error (for messages). */
function excused(node: ts.Node, detail: boolean, unit: Unit): boolean {
  for (let current = node.parent; current && !isFunctionLike(current); current = current.parent) {
    const condition = ts.isIfStatement(current)
      ? current.expression
      : ts.isConditionalExpression(current)
        ? current.condition
        : ts.isBinaryExpression(current) && current.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken
          ? current.left
          : undefined;
    if (!condition || condition === node) continue;
    const text = condition.getText(unit.sf);
    if (DEBUG_CONDITION.test(text)) return true;
    if (detail && CLIENT_ERROR_CHECK.test(text)) return true;
  }
  return false;
}

/** What of an error a value sends: its stack, its message, or the error itself. */
function leakIn(
  engine: TaintEngine,
  value: ts.Expression,
  errors: Set<ts.Symbol>,
  unit: Unit,
  depth = 0,
): string | undefined {
  let leak: string | undefined;
  const isError = (node: ts.Node) => ts.isIdentifier(node) && errors.has(engine.symbolOf(node)!);
  const visit = (node: ts.Node) => {
    if (leak || isFunctionLike(node)) return;
    if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) {
      const chain = chainOf(node);
      let root: ts.Expression = node;
      while (ts.isPropertyAccessExpression(root) || ts.isElementAccessExpression(root)) root = strip(root.expression);
      if (chain && isError(root)) {
        const property = chain[1] ?? '';
        if (chain.includes('stack') && !excused(node, false, unit)) leak = `the stack trace (${chain.join('.')})`;
        else if (DETAIL_PROPERTIES.test(property) && !excused(node, true, unit))
          leak = `the error message (${chain.join('.')})`;
        return;
      }
    }
    // `!e`, `typeof e`, `e instanceof X`, `e === null`, `Boolean(e)`: facts about the error, not its content.
    if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.ExclamationToken) return;
    if (ts.isTypeOfExpression(node)) return;
    if (ts.isBinaryExpression(node) && /^(instanceof|===?|!==?|<=?|>=?)$/.test(node.operatorToken.getText())) return;
    if (ts.isCallExpression(node) && calleeText(node.expression) === 'Boolean') return;
    if (ts.isConditionalExpression(node)) {
      visit(node.whenTrue);
      visit(node.whenFalse);
      return;
    }
    if (ts.isIdentifier(node)) {
      if (isError(node) && !excused(node, true, unit)) leak = `the error object (${node.text})`;
      else if (depth < 2 && !isError(node)) {
        const init = engine.initializerOf(node);
        if (init) leak = leakIn(engine, init, errors, unit, depth + 1);
      }
      return;
    }
    node.forEachChild(visit);
  };
  visit(value);
  return leak;
}

/** CWE-209: error details (stack traces, raw messages, the error object) sent in a response. */
export function findErrorDisclosure(engine: TaintEngine, unit: Unit): RuleHit[] {
  const errors = errorSymbols(engine, unit);
  if (errors.size === 0) return [];
  const hits: RuleHit[] = [];
  const report = (node: ts.Node, value: ts.Expression | undefined, sink: string) => {
    const leak = value && leakIn(engine, value, errors, unit);
    if (leak)
      hits.push({
        rule: 'error-disclosure',
        node,
        message: `Error details sent to the client: ${sink} sends ${leak}; internals (paths, queries, versions) help an attacker`,
      });
  };
  walk(unit.sf, (node) => {
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      const callee = strip(node.expression);
      const name = calleeText(callee);
      const method = lastName(name);
      const args = node.arguments ?? [];
      const response = ts.isPropertyAccessExpression(callee) && isResponse(engine, callee.expression);
      if (response && /^(send|json|jsonp|end|write)$/.test(method)) report(node, args[0], `${name}()`);
      if (response && method === 'render') report(node, args[1], `${name}()`);
      if (
        /^(Response\.json|NextResponse\.json|new Response|h\.response|ctx\.throw)$/.test(
          ts.isNewExpression(node) ? `new ${name}` : name,
        )
      )
        report(node, name === 'ctx.throw' ? args[1] : args[0], `${name}()`);
    }
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      const chain = chainOf(node.left);
      if (chain && /^(ctx|context)$/.test(chain[0]!) && chain.at(-1) === 'body')
        report(node, node.right, `${chain.join('.')} =`);
    }
  });
  return hits;
}
