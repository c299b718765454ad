import ts from 'typescript';
import type { RuleHit } from './hits';
import { calleeText, lastName, lineOf, literal, strip, walk, type Unit } from './program';
import { exponentialPart } from './regex-shape';
import { classBit, type TaintEngine } from './taint';

interface Pattern {
  node: ts.Node;
  source: string;
  flags: string;
}

/** A regular expression written in the code: a literal, or `new RegExp('constant')` (through one variable). */
function patternOf(engine: TaintEngine, node: ts.Expression | undefined, depth = 0): Pattern | undefined {
  if (!node || depth > 3) return undefined;
  const expression = strip(node);
  if (ts.isRegularExpressionLiteral(expression)) {
    const end = expression.text.lastIndexOf('/');
    return { node: expression, source: expression.text.slice(1, end), flags: expression.text.slice(end + 1) };
  }
  if (
    (ts.isNewExpression(expression) || ts.isCallExpression(expression)) &&
    calleeText(expression.expression) === 'RegExp'
  ) {
    const [source, flags] = expression.arguments ?? [];
    const text = source && engine.constantText(source);
    if (!text || text.includes('\uE000')) return undefined;
    return { node: expression, source: text, flags: literal(flags) ?? '' };
  }
  if (ts.isIdentifier(expression)) return patternOf(engine, engine.initializerOf(expression), depth + 1);
  return undefined;
}

/** `re.test(x)`, `re.exec(x)`, `x.match(re)`, `x.replace(re, …)`, `x.split(re)`: the pattern and the subject. */
function application(node: ts.CallExpression): { pattern: ts.Expression; subject: ts.Expression } | undefined {
  if (!ts.isPropertyAccessExpression(node.expression)) return undefined;
  const method = lastName(calleeText(node.expression));
  const receiver = node.expression.expression;
  const first = node.arguments[0];
  if (!first) return undefined;
  if (/^(test|exec)$/.test(method)) return { pattern: receiver, subject: first };
  if (/^(match|matchAll|replace|replaceAll|search|split)$/.test(method)) return { pattern: first, subject: receiver };
  return undefined;
}

/**
 * ReDoS in patterns written in the code: one open to exponential backtracking is reported where it is
 * applied to request input (medium), or where it is written when no application is traced to input (low).
 */
export function findRedos(engine: TaintEngine, unit: Unit): RuleHit[] {
  const hits: RuleHit[] = [];
  const reported = new Set<ts.Node>();
  const vulnerable = new Map<ts.Node, string>();
  const weakness = (pattern: Pattern) => {
    if (!vulnerable.has(pattern.node))
      vulnerable.set(pattern.node, exponentialPart(pattern.source, pattern.flags) ?? '');
    return vulnerable.get(pattern.node);
  };
  walk(unit.sf, (node) => {
    if (!ts.isCallExpression(node)) return;
    const applied = application(node);
    const pattern = applied && patternOf(engine, applied.pattern);
    if (!applied || !pattern) return;
    const kind = weakness(pattern);
    if (!kind) return;
    const taint = engine.taintAt(applied.subject, node, true);
    if (!taint || taint.stored || !(taint.classes & classBit('regex'))) return;
    reported.add(pattern.node);
    hits.push({
      rule: 'redos',
      node,
      message: `Regular expression open to catastrophic backtracking (${kind}: /${pattern.source.slice(0, 60)}/, line ${lineOf(pattern.node)}) applied to input from ${taint.origin}`,
    });
  });
  // Patterns never traced to input: still a weakness wherever the subject comes from.
  walk(unit.sf, (node) => {
    if (!ts.isRegularExpressionLiteral(node) && !ts.isNewExpression(node)) return;
    const pattern = patternOf(engine, node);
    if (!pattern || reported.has(pattern.node)) return;
    const kind = weakness(pattern);
    if (!kind) return;
    hits.push({
      rule: 'redos',
      node,
      severity: 'low',
      message: `Regular expression open to catastrophic backtracking (${kind}): /${pattern.source.slice(0, 60)}/ takes exponential time on a long near-match; rewrite it without nested or overlapping quantifiers`,
    });
  });
  return hits;
}
