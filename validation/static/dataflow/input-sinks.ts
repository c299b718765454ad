import ts from 'typescript';
import type { Project } from '../../project';
import type { RuleHit } from './hits';
import { calleeText, chainOf, lastName, literal, propertyOf, rootName, strip, walk, type Unit } from './program';
import { isResponse } from './sinks';
import { classBit, type Taint, type TaintClass, type TaintEngine } from './taint';
import { libraryStatus } from './versions';

const LOG_METHODS =
  /^(log|info|warn|warning|error|debug|trace|fatal|verbose|silly|http|notice|crit|critical|alert|emerg)$/;
const LOGGER_RECEIVER = /(^|\.)(console|log|logs|logger|\w*Logger|\w*_logger|winston|pino|bunyan|signale|audit\w*)$/i;
// Calls whose result is an entity built from, or written with, the fields of their argument.
const PERSIST_METHODS =
  /^(create|createOne|build|insert|insertOne|insertMany|update|updateOne|updateMany|findByIdAndUpdate|findOneAndUpdate|upsert|save|bulkCreate|replaceOne|findOneAndReplace|set|merge|patch|patchAndFetch|updateAttributes|setAttributes|fill|assign|updateById|createQueryBuilder)$/;
// Receivers that are not records: hashes, URLs, and HTTP clients (`axios.patch(url, req.body)` forwards the body).
const NOT_PERSISTENCE =
  /hash|hmac|cipher|sign|verify|crypto|digest|md5|sha\d*|checksum|history|params|searchParams|headers|^(axios|got|ky|superagent|needle|request|http|https|fetch|api|\w*Api|\w*Client|\$http)$/i;
const BUILTIN_CLASSES =
  /^(Map|Set|WeakMap|WeakSet|URL|URLSearchParams|Error|\w+Error|Date|Buffer|Promise|Response|Request|Headers|Proxy|RegExp|Array|Object|String|Number|Boolean|Blob|FormData|Uint8Array|TextEncoder|TextDecoder)$/;
const MERGE_HELPERS = /^(_|lodash|underscore|\$|jQuery)\.(assign|assignIn|extend|merge|mergeWith|defaults)$/;
const DESERIALISERS: { module: RegExp; method: RegExp }[] = [
  {
    module: /^(node-serialize|serialize-to-js|funcster|cryo|php-serialize|locutus\/php\/var\/unserialize)$/,
    method: /^(unserialize|deserialize|deepDeserialize|parse)$/,
  },
  { module: /^v8$/, method: /^deserialize$/ },
];
// The js-yaml schemas that construct functions and regular expressions (`!!js/function`).
const UNSAFE_YAML_SCHEMA = /DEFAULT_FULL_SCHEMA|js-yaml-js-types|jsTypes|\bFULL_SCHEMA/;
const WHOLE_BODY = /^(\w+\.)*(body|json\(\)|formData\(\)|parseBody\(\)|@Body\(\)) \(line/;

/** Request input (or archive names) of one class reaching `value` at `at`, guards applied. */
function tainted(engine: TaintEngine, kind: TaintClass, value: ts.Expression | undefined, at: ts.Node) {
  if (!value) return undefined;
  const taint = engine.taintAt(value, at);
  return taint && !taint.stored && taint.classes & classBit(kind) ? taint : undefined;
}

/**
 * The whole request body (every key the client chose), not fields picked from it: `req.body`,
 * `{ ...req.body }`, `Object.assign({}, req.body)`, a variable or parameter holding one of them.
 */
export function wholeBody(engine: TaintEngine, node: ts.Expression, depth = 0): boolean {
  const expression = strip(node);
  if (depth > 6) return false;
  if (ts.isObjectLiteralExpression(expression))
    return expression.properties.some(
      (property) => ts.isSpreadAssignment(property) && wholeBody(engine, property.expression, depth + 1),
    );
  if (ts.isCallExpression(expression)) {
    const name = calleeText(expression.expression);
    if (/^Object\.assign$|^(_|lodash)\.(assign|extend|merge|omit|clone|cloneDeep)$|^(structuredClone|omit)$/.test(name))
      return expression.arguments.some((arg) => wholeBody(engine, arg, depth + 1));
    // A helper of the project: what it returns, not where its argument came from.
    const fn = engine.functionOf(expression.expression);
    if (fn?.body) {
      if (!ts.isBlock(fn.body)) return wholeBody(engine, fn.body, depth + 1);
      let whole = false;
      walk(fn.body, (child) => {
        if (ts.isReturnStatement(child) && child.expression && wholeBody(engine, child.expression, depth + 1))
          whole = true;
      });
      return whole;
    }
    // A request accessor (`await req.json()`), not a parser or validator that takes the body (`Schema.parse(req.body)`).
    const taint = engine.taintOf(expression);
    return taint !== undefined && taint.shape === 'object' && taint.origin.startsWith(`${name}()`);
  }
  if (ts.isIdentifier(expression)) {
    const init = engine.initializerOf(expression);
    if (init) return wholeBody(engine, init, depth + 1);
    // const { role, ...rest } = req.body: the rest is still every other key.
    const declaration = engine.symbolOf(expression)?.declarations?.[0];
    if (declaration && ts.isBindingElement(declaration) && declaration.dotDotDotToken) {
      const owner = declaration.parent.parent;
      if (ts.isVariableDeclaration(owner) && owner.initializer) return wholeBody(engine, owner.initializer, depth + 1);
    }
  }
  const taint = engine.taintOf(expression);
  return taint !== undefined && !taint.stored && taint.shape === 'object' && WHOLE_BODY.test(taint.origin);
}

const describe = (taint: Taint) =>
  taint.origin.startsWith('the name of') ? taint.origin : `input from ${taint.origin}`;

/** Log injection, regular expressions built from input, mass assignment and unsafe deserialisation. */
export function findInputSinks(engine: TaintEngine, unit: Unit, project: Project): RuleHit[] {
  const hits: RuleHit[] = [];
  const bindings = engine.bindings.get(unit.sf) ?? new Map<string, { module: string; imported: string }>();
  walk(unit.sf, (node) => {
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      const callee = strip(node.expression);
      const name = calleeText(callee);
      const method = lastName(name);
      const receiver = name.slice(0, Math.max(0, name.length - method.length - 1));
      const args = node.arguments ?? [];
      const binding = bindings.get(rootName(name));
      const bare = ts.isIdentifier(callee);
      const effective = bare && binding && binding.imported !== '*' ? binding.imported : method;

      // Log injection: a string from input in a log line can forge entries with CR/LF.
      const logCall =
        (!bare && LOG_METHODS.test(method) && LOGGER_RECEIVER.test(receiver)) ||
        (!bare && /^process\.(stdout|stderr)\.write$/.test(name)) ||
        (!bare && /^(appendFile|appendFileSync)$/.test(method) && /log/i.test(engine.constantText(args[0] ?? callee)));
      if (logCall) {
        const values = /^(appendFile|appendFileSync)$/.test(method) ? args.slice(1, 2) : args;
        for (const arg of values) {
          const taint = tainted(engine, 'log', arg, node);
          if (!taint || taint.shape !== 'scalar') continue;
          hits.push({
            rule: 'log-injection',
            node,
            message: `Input written to a log without neutralising line breaks: ${describe(taint)} reaches ${name}() with CR/LF intact (a forged log entry)`,
          });
          break;
        }
      }

      // A regular expression compiled from input: catastrophic patterns chosen by the client (ReDoS).
      const regexValue =
        name === 'RegExp' || name === 'global.RegExp'
          ? args[0]
          : !bare &&
              /^(match|matchAll|search)$/.test(method) &&
              args[0] &&
              !ts.isRegularExpressionLiteral(strip(args[0]))
            ? args[0]
            : undefined;
      const regexTaint = tainted(engine, 'regex', regexValue, node);
      if (regexTaint && !(regexValue && ts.isRegularExpressionLiteral(strip(regexValue))))
        hits.push({
          rule: 'redos',
          node,
          message: `Regular expression built from input: ${describe(regexTaint)} reaches ${ts.isNewExpression(node) ? 'new ' : ''}${name}() without escaping (the client chooses the pattern: catastrophic backtracking)`,
        });

      // Mass assignment: every key of the body copied into a model or a record.
      const massAt = (value: ts.Expression | undefined, sink: string) => {
        if (!value || !wholeBody(engine, value) || !tainted(engine, 'mass', value, node)) return false;
        hits.push({
          rule: 'mass-assignment',
          node,
          message: `Request body assigned to a model without a field allow-list: every field of ${value.getText(unit.sf).slice(0, 40)} reaches ${sink} (role, isAdmin, id… can be set by the client)`,
        });
        return true;
      };
      const freshTarget = (value: ts.Expression | undefined) =>
        value !== undefined && ts.isObjectLiteralExpression(strip(value));
      if ((name === 'Object.assign' || MERGE_HELPERS.test(name)) && args[0] && !freshTarget(args[0])) {
        args.slice(1).some((arg) => massAt(arg, `${name}(${args[0]!.getText(unit.sf).slice(0, 20)}, …)`));
      } else if (
        !bare &&
        PERSIST_METHODS.test(method) &&
        !NOT_PERSISTENCE.test(receiver) &&
        !/^(Object|JSON|Reflect|Array|Promise)$/.test(receiver) &&
        !(ts.isPropertyAccessExpression(callee) && isResponse(engine, callee.expression)) &&
        !(method === 'set' && args.length !== 1)
      ) {
        // Sequelize's `{ fields: [...] }` option is an allow-list of the columns written.
        const allowList = args.some(
          (arg) =>
            ts.isObjectLiteralExpression(strip(arg)) && propertyOf(strip(arg) as ts.ObjectLiteralExpression, 'fields'),
        );
        for (const arg of allowList ? [] : args) {
          if (massAt(arg, `${name}()`)) break;
          // prisma.user.update({ where, data: req.body }), Model.updateOne(filter, { $set: req.body })
          const object = strip(arg);
          if (
            ts.isObjectLiteralExpression(object) &&
            object.properties.some(
              (property) =>
                ts.isPropertyAssignment(property) &&
                massAt(property.initializer, `${name}({ ${property.name.getText(unit.sf)} })`),
            )
          )
            break;
        }
      } else if (ts.isNewExpression(node) && bare && /^[A-Z]/.test(name) && !BUILTIN_CLASSES.test(name)) {
        massAt(args[0], `new ${name}()`);
      }

      // Unsafe deserialisation.
      const module = binding?.module ?? '';
      for (const deserialiser of DESERIALISERS) {
        if (!deserialiser.module.test(module) || !deserialiser.method.test(effective)) continue;
        const value = args[0];
        const taint = tainted(engine, 'deser', value, node);
        if (taint)
          hits.push({
            rule: 'unsafe-deserialization',
            node,
            // v8.deserialize rebuilds objects (and can crash the process) but runs no code.
            severity: module === 'v8' ? 'high' : undefined,
            message: `Untrusted data deserialised: ${describe(taint)} reaches ${name}() from ${module}, which ${module === 'v8' ? 'rebuilds arbitrary objects from the bytes' : 'rebuilds functions and runs code embedded in the data'}`,
          });
        else if (value && literal(value) === undefined && module !== 'v8')
          hits.push({
            rule: 'unsafe-deserialization',
            node,
            severity: 'high',
            message: `${name}() from ${module} deserialises \`${value.getText(unit.sf).slice(0, 40)}\`, which is not a constant: it runs code embedded in the data`,
          });
      }
      if (module === 'js-yaml' && /^(load|loadAll)$/.test(effective)) {
        const hit = unsafeYaml(engine, project, node, args, unit);
        if (hit) hits.push({ ...hit, node });
      }
    }

    // for (const k in req.body) user[k] = req.body[k]: every key the client sent.
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      const left = strip(node.left);
      if (ts.isElementAccessExpression(left) && !ts.isElementAccessExpression(strip(left.expression))) {
        const key = tainted(engine, 'mass', left.argumentExpression, node);
        const target = chainOf(left.expression)?.join('.') ?? 'an object';
        if (key && key.shape === 'scalar' && WHOLE_BODY.test(key.origin) && !/^(res|response|ctx)\b/.test(target))
          hits.push({
            rule: 'mass-assignment',
            node,
            message: `Request body assigned to a model without a field allow-list: keys of ${key.origin} are copied into ${target}[…] (role, isAdmin, id… can be set by the client)`,
          });
      }
    }
  });
  return hits;
}

/** js-yaml load(): unsafe with the full schema, or in releases before 4.0 (whose default schema runs `!!js/function`). */
function unsafeYaml(
  engine: TaintEngine,
  project: Project,
  node: ts.CallExpression | ts.NewExpression,
  args: readonly ts.Expression[],
  unit: Unit,
): Omit<RuleHit, 'node'> | undefined {
  const [value, options] = args;
  if (!value || literal(value) !== undefined) return undefined;
  const taint = engine.taintAt(value, node);
  const source = taint && !taint.stored ? `input from ${taint.origin}` : `\`${value.getText(unit.sf).slice(0, 40)}\``;
  const optionsObject =
    options && ts.isObjectLiteralExpression(strip(options))
      ? (strip(options) as ts.ObjectLiteralExpression)
      : undefined;
  const schema = optionsObject ? propertyOf(optionsObject, 'schema') : undefined;
  const schemaText = schema
    ? `${schema.getText(unit.sf)} ${ts.isIdentifier(schema) ? (engine.initializerOf(schema)?.getText(unit.sf) ?? '') : ''}`
    : '';
  if (schema && UNSAFE_YAML_SCHEMA.test(schemaText))
    return {
      rule: 'unsafe-deserialization',
      message: `Untrusted data deserialised: ${source} reaches js-yaml load() with ${schema.getText(unit.sf)}, which constructs functions (!!js/function)`,
      severity: taint ? undefined : 'high',
    };
  if (schema || !taint || taint.stored) return undefined;
  // Without a declared version, only evidence of js-yaml 3 in the code (its safeLoad API, a note) counts.
  const { status, range } = libraryStatus(project, 'js-yaml', '4.0.0');
  const evidence = project.files.some((file) => /\bsafeLoad(All)?\s*\(|js-yaml[@ "':^~v]*3\.\d/.test(file.content));
  if (status === 'fixed' || (status === 'unknown' && !evidence)) return undefined;
  return {
    rule: 'unsafe-deserialization',
    message:
      status === 'vulnerable'
        ? `Untrusted data deserialised: ${source} reaches js-yaml load() (js-yaml ${range} predates 4.0: its default schema runs !!js/function); use safeLoad`
        : `Untrusted data deserialised: ${source} reaches js-yaml load(), and the project uses js-yaml 3 (whose default schema runs !!js/function); use safeLoad`,
    severity: status === 'vulnerable' ? undefined : 'high',
  };
}
