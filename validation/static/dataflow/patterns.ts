import ts from 'typescript';
import { calleeText, isFunctionLike, lastName, literal, propertyOf, rootName, strip, walk, type Unit } from './program';
import type { TaintEngine } from './taint';

/** A structural finding (not a source-to-sink flow). */
export interface PatternHit {
  kind: 'proto' | 'cleartext';
  unit: Unit;
  node: ts.Node;
  message: string;
}

// ---- prototype pollution: recursive merges and deep setters ---------------------------------------

const KEY_SOURCES = /^(Object\.)?(keys|entries|getOwnPropertyNames)$|^Reflect\.ownKeys$/;

function functionName(fn: ts.FunctionLikeDeclaration): ts.Identifier | undefined {
  if (fn.name && ts.isIdentifier(fn.name)) return fn.name;
  const parent = fn.parent;
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name;
  if (ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name;
  return undefined;
}

/** Variables that hold the keys of an object being walked: for-in, for-of Object.keys/entries, key callbacks, path segments. */
function keyVariables(engine: TaintEngine, fn: ts.FunctionLikeDeclaration): Set<ts.Symbol> {
  const keys = new Set<ts.Symbol>();
  const addName = (name: ts.BindingName | undefined) => {
    if (!name) return;
    if (ts.isIdentifier(name)) {
      const symbol = engine.symbolOf(name);
      if (symbol) keys.add(symbol);
    } else if (ts.isArrayBindingPattern(name)) {
      const first = name.elements[0];
      if (first && ts.isBindingElement(first)) addName(first.name);
    }
  };
  const isKeyList = (node: ts.Expression): boolean => {
    const expression = strip(node);
    if (ts.isCallExpression(expression)) {
      const name = calleeText(expression.expression);
      return KEY_SOURCES.test(name) || lastName(name) === 'split';
    }
    if (ts.isIdentifier(expression)) {
      const init = engine.initializerOf(expression);
      return init !== undefined && isKeyList(init);
    }
    return false;
  };
  walk(fn.body!, (node) => {
    if (ts.isForInStatement(node) && ts.isVariableDeclarationList(node.initializer))
      addName(node.initializer.declarations[0]?.name);
    if (ts.isForOfStatement(node) && ts.isVariableDeclarationList(node.initializer) && isKeyList(node.expression))
      addName(node.initializer.declarations[0]?.name);
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      const callback = node.arguments[0];
      if (
        /^(forEach|map|reduce)$/.test(method) &&
        isKeyList(node.expression.expression) &&
        callback &&
        (ts.isArrowFunction(callback) || ts.isFunctionExpression(callback))
      )
        addName(callback.parameters[method === 'reduce' ? 1 : 0]?.name);
    }
    // for (let i = 0; …) { const key = parts[i]; … } over a split path.
    if (ts.isVariableDeclaration(node) && node.initializer && ts.isIdentifier(node.name)) {
      const init = strip(node.initializer);
      if (ts.isElementAccessExpression(init) && isKeyList(init.expression)) addName(node.name);
    }
  });
  return keys;
}

/**
 * The function calls itself on a property of an object it writes keys into (`merge(target[key], …)`):
 * the next level writes into whatever `target[key]` is, Object.prototype when the key is __proto__.
 * (A clone recursing on its source, `out[k] = clone(obj[k])`, writes only into fresh objects.)
 */
function recursesIntoTarget(engine: TaintEngine, fn: ts.FunctionLikeDeclaration, targets: Set<string>): boolean {
  const name = functionName(fn);
  const symbol = name && engine.symbolOf(name);
  if (!symbol) return false;
  let found = false;
  walk(fn.body!, (node) => {
    if (found || !ts.isCallExpression(node)) return;
    const callee = strip(node.expression);
    const target = ts.isPropertyAccessExpression(callee) ? callee.name : callee;
    if (!ts.isIdentifier(target) || engine.symbolOf(target) !== symbol) return;
    found = node.arguments.some((arg) => {
      const value = strip(arg);
      return (
        ts.isElementAccessExpression(value) &&
        ts.isIdentifier(strip(value.expression)) &&
        targets.has((strip(value.expression) as ts.Identifier).text)
      );
    });
  });
  return found;
}

/** Names of the objects a function writes keys into: `target` in `target[key] = …`. */
function writtenObjects(engine: TaintEngine, fn: ts.FunctionLikeDeclaration, keys: Set<ts.Symbol>): Set<string> {
  const targets = new Set<string>();
  walk(fn.body!, (node) => {
    if (!ts.isBinaryExpression(node) || node.operatorToken.kind !== ts.SyntaxKind.EqualsToken) return;
    const left = strip(node.left);
    if (!ts.isElementAccessExpression(left) || !ts.isIdentifier(strip(left.expression))) return;
    const key = strip(left.argumentExpression);
    if (ts.isIdentifier(key) && keys.has(engine.symbolOf(key)!))
      targets.add((strip(left.expression) as ts.Identifier).text);
  });
  return targets;
}

/** `cur = cur[key]`, `cur[key] = cur[key] || {}` or `return o[k]` in a reduce: walks down into nested objects. */
function navigates(fn: ts.FunctionLikeDeclaration): boolean {
  let found = false;
  walk(fn.body!, (node) => {
    if (found) return;
    if (ts.isReturnStatement(node) && node.expression && ts.isElementAccessExpression(strip(node.expression))) {
      const inner = strip(node.expression) as ts.ElementAccessExpression;
      const owner = enclosingCallback(node);
      if (
        owner &&
        ts.isIdentifier(strip(inner.expression)) &&
        owner.parameters[0]?.name.getText() === strip(inner.expression).getText()
      )
        found = true;
    }
    if (!ts.isBinaryExpression(node) || node.operatorToken.kind !== ts.SyntaxKind.EqualsToken) return;
    const left = strip(node.left);
    const right = strip(node.right);
    const target = ts.isIdentifier(left)
      ? left.text
      : ts.isElementAccessExpression(left) && ts.isIdentifier(strip(left.expression))
        ? (strip(left.expression) as ts.Identifier).text
        : undefined;
    walk(right, (child) => {
      if (
        target &&
        ts.isElementAccessExpression(child) &&
        ts.isIdentifier(strip(child.expression)) &&
        (strip(child.expression) as ts.Identifier).text === target
      )
        found = true;
    });
  });
  return found;
}

/** The reduce callback a return belongs to (`(o, k) => { …; return o[k]; }`). */
function enclosingCallback(node: ts.Node): ts.FunctionLikeDeclaration | undefined {
  for (let current = node.parent; current; current = current.parent) {
    if (isFunctionLike(current)) {
      const call = current.parent;
      return ts.isCallExpression(call) && /\.reduce$/.test(calleeText(call.expression)) ? current : undefined;
    }
  }
  return undefined;
}

export function findUnsafeMerges(engine: TaintEngine, unit: Unit): PatternHit[] {
  const hits: PatternHit[] = [];
  const fileText = unit.sf.text;
  const blocks = {
    proto: /["'`]__proto__["'`]/.test(fileText),
    constructor: /["'`]constructor["'`]/.test(fileText),
    prototype: /["'`]prototype["'`]/.test(fileText),
  };
  if (blocks.proto && (blocks.constructor || blocks.prototype)) return hits;
  walk(unit.sf, (node) => {
    if (!isFunctionLike(node) || !node.body) return;
    const keys = keyVariables(engine, node);
    if (keys.size === 0) return;
    if (!recursesIntoTarget(engine, node, writtenObjects(engine, node, keys)) && !navigates(node)) return;
    // Allow-lists of keys (a regular expression, a list of permitted names) make the walk safe.
    let guarded = false;
    let assignment: ts.BinaryExpression | undefined;
    walk(node.body, (child) => {
      if (ts.isCallExpression(child) && ts.isPropertyAccessExpression(child.expression)) {
        const method = child.expression.name.text;
        const arg = child.arguments[0] && strip(child.arguments[0]);
        if (
          /^(test|includes|has)$/.test(method) &&
          arg &&
          ts.isIdentifier(arg) &&
          keys.has(engine.symbolOf(arg)!) &&
          !blocks.proto
        )
          guarded = true;
      }
      if (
        !assignment &&
        ts.isBinaryExpression(child) &&
        child.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
        ts.isElementAccessExpression(strip(child.left))
      ) {
        const key = strip((strip(child.left) as ts.ElementAccessExpression).argumentExpression);
        if (ts.isIdentifier(key) && keys.has(engine.symbolOf(key)!)) assignment = child;
      }
    });
    if (guarded || !assignment) return;
    const name = functionName(node)?.text ?? 'a function';
    const missing = blocks.proto
      ? 'constructor/prototype are not blocked'
      : '__proto__, constructor and prototype are not blocked';
    hits.push({
      kind: 'proto',
      unit,
      node: assignment,
      message: `${name}() copies keys of its input into nested objects; ${missing} (prototype pollution)`,
    });
  });
  return hits;
}

// ---- cleartext transmission: every request form -------------------------------------------------

const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1\]|::1|host\.docker\.internal|[\w-]+)(:\d+)?$/i;
const REQUEST_FUNCTIONS = /^(fetch|axios|got|ky|needle|request|superagent|ofetch|\$fetch)$/;
const CLIENT_ROOTS = /^(axios|got|ky|superagent|needle|request|undici)$/;
const VERBS = /^(get|post|put|patch|delete|del|head|options|request|fetch|stream|create|extend)$/;
const URL_KEYS = ['url', 'baseURL', 'baseUrl', 'uri', 'href', 'prefixUrl', 'endpoint'];

/** Possible constant values of an expression, through constants, `||`, `??` and `?:` (dynamic parts are `\uE000`). */
function candidates(engine: TaintEngine, node: ts.Expression, depth = 0): string[] {
  const expression = strip(node);
  if (depth > 5) return ['\uE000'];
  if (ts.isBinaryExpression(expression)) {
    const op = expression.operatorToken.kind;
    if (op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken)
      return [...candidates(engine, expression.left, depth + 1), ...candidates(engine, expression.right, depth + 1)];
  }
  if (ts.isConditionalExpression(expression))
    return [
      ...candidates(engine, expression.whenTrue, depth + 1),
      ...candidates(engine, expression.whenFalse, depth + 1),
    ];
  if (ts.isIdentifier(expression)) {
    const init = engine.initializerOf(expression);
    if (init) return candidates(engine, init, depth + 1);
  }
  if (ts.isNewExpression(expression) && calleeText(expression.expression) === 'URL' && expression.arguments?.[0]) {
    const [path, base] = expression.arguments;
    const paths = candidates(engine, path!, depth + 1);
    return base && paths.every((p) => !/^[a-z]+:\/\//i.test(p)) ? candidates(engine, base, depth + 1) : paths;
  }
  return [engine.constantText(expression)];
}

/** `http://host…` with a remote or computed host → the host (or `a computed host`). */
function cleartextHost(url: string): string | undefined {
  const match = /^(http|ws):\/\/([^/?#]*)/i.exec(url);
  if (!match) return undefined;
  const host = match[2]!;
  if (host.includes('\uE000')) return 'a computed host';
  return LOCAL_HOST.test(host) ? undefined : host;
}

function objectOf(engine: TaintEngine, node: ts.Expression | undefined): ts.ObjectLiteralExpression | undefined {
  if (!node) return undefined;
  const expression = strip(node);
  if (ts.isObjectLiteralExpression(expression)) return expression;
  if (ts.isIdentifier(expression)) {
    const init = engine.initializerOf(expression);
    return init ? objectOf(engine, init) : undefined;
  }
  return undefined;
}

/** The remote host an options object names (`host`/`hostname`), or undefined when local or absent. */
function optionsHost(engine: TaintEngine, options: ts.ObjectLiteralExpression): string | undefined {
  if (propertyOf(options, 'socketPath')) return undefined;
  const host = propertyOf(options, 'hostname') ?? propertyOf(options, 'host');
  if (!host) return undefined;
  for (const value of candidates(engine, host)) {
    if (value.includes('\uE000')) return 'a computed host';
    if (!LOCAL_HOST.test(value)) return value;
  }
  return undefined;
}

export function findCleartext(engine: TaintEngine, unit: Unit): PatternHit[] {
  const hits: PatternHit[] = [];
  const bindings = engine.bindings.get(unit.sf) ?? new Map<string, { module: string; imported: string }>();
  const add = (node: ts.Node, message: string) => hits.push({ kind: 'cleartext', unit, node, message });
  const checkUrl = (node: ts.Node, value: ts.Expression | undefined, what: string) => {
    if (!value) return false;
    for (const url of candidates(engine, value)) {
      const host = cleartextHost(url);
      if (host) {
        add(
          node,
          `${what} sends to ${host} over plain ${url.slice(0, 2).toLowerCase() === 'ws' ? 'WebSocket' : 'HTTP'}`,
        );
        return true;
      }
    }
    return false;
  };
  walk(unit.sf, (node) => {
    if (ts.isObjectLiteralExpression(node)) {
      // Request options with protocol 'http:' and a remote host, wherever they are built.
      const protocol = literal(propertyOf(node, 'protocol'));
      if (protocol && /^https?:?$/i.test(protocol) && !/^https/i.test(protocol)) {
        const host = optionsHost(engine, node);
        if (host) add(node, `request options send to ${host} over plain HTTP (protocol: '${protocol}')`);
      }
      return;
    }
    if (!ts.isCallExpression(node) && !ts.isNewExpression(node)) return;
    const callee = strip(node.expression);
    const name = calleeText(callee);
    const method = lastName(name);
    const root = rootName(name);
    const args = node.arguments ?? [];
    const binding = bindings.get(root);
    const bare = ts.isIdentifier(callee);
    // The http module speaks plain HTTP only: http.request({ host, … }), http.get(url), request() imported from it.
    const httpModule =
      (binding?.module === 'http' &&
        ((binding.imported === '*' && ts.isPropertyAccessExpression(callee) && /^(request|get)$/.test(method)) ||
          (bare && /^(request|get)$/.test(binding.imported)))) ||
      (!binding && root === 'http' && /^(request|get)$/.test(method) && name.split('.').length === 2);
    if (httpModule) {
      const first = args[0];
      const options = objectOf(engine, first);
      if (options) {
        if (literal(propertyOf(options, 'protocol'))?.startsWith('https')) return;
        const host = optionsHost(engine, options);
        if (host) add(node, `${name}() from the http module sends to ${host} over plain HTTP`);
        return;
      }
      if (first && !checkUrl(node, first, `${name}()`)) {
        const values = candidates(engine, first);
        if (values.some((v) => v.startsWith('\uE000')))
          add(node, `${name}() from the http module sends to a computed URL over plain HTTP`);
      }
      return;
    }
    const client = bare
      ? REQUEST_FUNCTIONS.test(name) ||
        /^(axios|got|node-fetch|undici|superagent|needle|request|ky)$/.test(binding?.module ?? '')
      : (CLIENT_ROOTS.test(root) ||
          /^(axios|got|superagent|needle|undici|ky|https)$/.test(binding?.module ?? '') ||
          root === 'https') &&
        VERBS.test(method);
    const socket = ts.isNewExpression(node) && /^(WebSocket|EventSource|Request)$/.test(name);
    if (!client && !socket) return;
    const first = args[0];
    const options = objectOf(engine, first);
    if (options) {
      for (const key of URL_KEYS) if (checkUrl(node, propertyOf(options, key), `${name}({ ${key} })`)) return;
      return;
    }
    if (checkUrl(node, first, `${name}()`)) return;
    // needle('get', 'http://…'), got(url, { prefixUrl }), axios(url, config)
    const second = args[1];
    if (name === 'needle' && second) checkUrl(node, second, `${name}()`);
    const config = objectOf(engine, second);
    if (config) for (const key of URL_KEYS) if (checkUrl(node, propertyOf(config, key), `${name}({ ${key} })`)) return;
  });
  return hits;
}
