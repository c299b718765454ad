import { posix } from 'node:path';
import ts from 'typescript';
import type { TestResult } from '../../contracts/sandbox';
import { calleeName, importsOf, stringValue, walk, type CheckContext, type SourceUnit } from '../compliance/ast';
import { isTestPath } from './detectors';

// The project's tests as written (names, bodies, what their files import) and as run (layer 2's list of
// results by name): how a requirement's implementation is tied to a test that exercised it.

/** A `test(...)` / `it(...)` declared in a test file. */
export interface DeclaredTest {
  /** The name as written; template parts become `…`. */
  name: string;
  /** Matches the name the runner reports (template substitutions as wildcards). */
  matcher: RegExp;
  file: string;
  line: number;
  /** Names of the `describe` blocks around it, outermost first. */
  suites: string[];
  /** The test's source text (name, body), for keyword matching. */
  text: string;
}

const TEST_CALL = /^(test|it|t\.test|test\.only|it\.only|test\.skip|it\.skip|test\.todo|it\.todo)$/;
const SUITE_CALL = /^(describe|suite|describe\.only|describe\.skip|context)$/;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A test's name and how to match the runner's report of it. */
function testName(arg: ts.Expression | undefined): { name: string; matcher: RegExp } | undefined {
  if (!arg) return undefined;
  const literal = stringValue(arg);
  if (literal !== undefined) return { name: literal, matcher: new RegExp(`^${escapeRegExp(literal)}$`) };
  if (ts.isTemplateExpression(arg)) {
    const parts = [arg.head.text, ...arg.templateSpans.map((span) => span.literal.text)];
    return {
      name: parts.join('…'),
      matcher: new RegExp(`^${parts.map(escapeRegExp).join('.*?')}$`),
    };
  }
  return undefined;
}

/** Every test declared in the project's test files. */
export function declaredTests(ctx: CheckContext): DeclaredTest[] {
  const tests: DeclaredTest[] = [];
  for (const unit of ctx.sources.filter((u) => isTestPath(u.file.path))) {
    const visit = (node: ts.Node, suites: string[]) => {
      if (ts.isCallExpression(node)) {
        const callee = calleeName(node);
        const named = testName(node.arguments[0]);
        if (named && SUITE_CALL.test(callee)) {
          node.forEachChild((child) => visit(child, [...suites, named.name]));
          return;
        }
        if (named && TEST_CALL.test(callee)) {
          tests.push({
            ...named,
            file: unit.file.path,
            line: unit.sf.getLineAndCharacterOfPosition(node.getStart(unit.sf)).line + 1,
            suites,
            text: node.getText(unit.sf),
          });
        }
      }
      node.forEachChild((child) => visit(child, suites));
    };
    visit(unit.sf, []);
  }
  return tests;
}

const EXTENSIONS = ['', '.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];

/** A relative import resolved to a project file, as TypeScript would (`./app`, `./app.js` → `app.ts`). */
function resolveImport(from: string, specifier: string, files: Set<string>): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const stem = base.replace(/\.(c|m)?js$/, '');
  for (const candidate of [
    ...EXTENSIONS.map((ext) => base + ext),
    ...EXTENSIONS.map((ext) => stem + ext),
    ...EXTENSIONS.slice(1).map((ext) => `${base}/index${ext}`),
  ]) {
    if (files.has(candidate)) return candidate;
  }
  return undefined;
}

/** File → project files it imports directly. */
export function importGraph(ctx: CheckContext): Map<string, Set<string>> {
  const files = new Set(ctx.files.map((f) => f.path));
  const graph = new Map<string, Set<string>>();
  for (const unit of ctx.sources) graph.set(unit.file.path, new Set(resolvedImports(unit, files)));
  return graph;
}

function resolvedImports(unit: SourceUnit, files: Set<string>): string[] {
  return importsOf(unit).flatMap((spec) => {
    const resolved = resolveImport(unit.file.path, spec, files);
    return resolved ? [resolved] : [];
  });
}

/** Every file a file reaches through imports, itself included. */
export function reachableFrom(graph: Map<string, Set<string>>, start: string): Set<string> {
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length) {
    for (const next of graph.get(queue.shift()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}

/** Node's TAP reporter escapes `#`, `\` and line breaks in names; the declared name has them plain. */
export const unescapeTapName = (name: string) => name.replace(/\\(#|\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : c));

/**
 * What the sandbox said about a declared test: passed, failed, skipped, or not run (absent from its
 * results). A name reported both passed and failed (two tests of one name) counts as failed.
 */
export function outcomeOf(test: DeclaredTest, results: TestResult[]): 'passed' | 'failed' | 'skipped' | 'not_run' {
  const statuses = results.filter((r) => test.matcher.test(unescapeTapName(r.name))).map((r) => r.status);
  if (statuses.includes('failed')) return 'failed';
  if (statuses.includes('passed')) return 'passed';
  if (statuses.includes('skipped')) return 'skipped';
  return 'not_run';
}

/** Identifiers and string literals of a file, with their lines: its vocabulary, comments left out. */
export function vocabulary(unit: SourceUnit): { word: string; line: number }[] {
  const words: { word: string; line: number }[] = [];
  walk(unit.sf, (node) => {
    if (ts.isIdentifier(node) || ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      words.push({
        word: node.text.toLowerCase(),
        line: unit.sf.getLineAndCharacterOfPosition(node.getStart(unit.sf)).line + 1,
      });
    }
  });
  return words;
}
