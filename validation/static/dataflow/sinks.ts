import ts from 'typescript';
import {
  calleeText,
  chainOf,
  isFunctionLike,
  lastName,
  literal,
  propertyNameText,
  propertyOf,
  rootName,
  strip,
  walk,
  type Unit,
} from './program';
import { classBit, type Taint, type TaintClass, type TaintEngine, type TaintHit } from './taint';

const FS_MODULES = /^(fs|fs\/promises|fs-extra|graceful-fs|original-fs)$/;
const FS_PATH_METHODS = new Set([
  'readFile',
  'readFileSync',
  'writeFile',
  'writeFileSync',
  'appendFile',
  'appendFileSync',
  'createReadStream',
  'createWriteStream',
  'unlink',
  'unlinkSync',
  'rm',
  'rmSync',
  'rmdir',
  'rmdirSync',
  'readdir',
  'readdirSync',
  'stat',
  'statSync',
  'lstat',
  'lstatSync',
  'access',
  'accessSync',
  'open',
  'openSync',
  'exists',
  'existsSync',
  'mkdir',
  'mkdirSync',
  'copyFile',
  'copyFileSync',
  'rename',
  'renameSync',
  'cp',
  'cpSync',
  'readJson',
  'readJSON',
  'readJsonSync',
  'outputFile',
  'outputFileSync',
  'remove',
  'removeSync',
  'pathExists',
  'truncate',
  'chmod',
  'symlink',
  'opendir',
]);
// Methods whose second argument is a path too.
const TWO_PATHS = new Set(['copyFile', 'copyFileSync', 'rename', 'renameSync', 'cp', 'cpSync', 'symlink']);

const CHILD_PROCESS = /^(child_process|shelljs|execa)$/;
const HTTP_CLIENTS =
  /^(axios|got|node-fetch|undici|superagent|needle|request|ky|http|https|cross-fetch|isomorphic-fetch)$/;
const HTTP_VERBS = /^(get|post|put|patch|delete|del|head|options|request|fetch|stream)$/;
const TEMPLATE_MODULES =
  /^(ejs|pug|jade|handlebars|nunjucks|mustache|lodash|underscore|dot|eta|hogan\.js|twig|swig|lodash\.template)$/;
const TEMPLATE_ROOTS =
  /^(ejs|pug|jade|Handlebars|handlebars|hbs|nunjucks|Mustache|mustache|_|lodash|doT|dot|Eta|eta|Hogan|Twig|swig)$/;
const QUERY_METHOD =
  /^(query|execute|raw|all|get|run|prepare|exec|each|\$queryRawUnsafe|\$executeRawUnsafe|whereRaw|orderByRaw|havingRaw|joinRaw|selectRaw|fromRaw|unsafe)$/;
const DB_RECEIVER =
  /db|database|conn|client|pool|knex|sequelize|sql|prisma|tx|trx|manager|repository|queryRunner|sqlite|pg|mysql|connection|store/i;

/** Finds tainted values at each sink of each class. */
export function findSinks(engine: TaintEngine, unit: Unit): TaintHit[] {
  const hits: TaintHit[] = [];
  const bindings = engine.bindings.get(unit.sf) ?? new Map<string, { module: string; imported: string }>();
  const moduleOf = (name: string) => bindings.get(name)?.module;

  const check = (
    kind: TaintClass,
    node: ts.Node,
    value: ts.Expression | undefined,
    sink: string,
    accept?: (t: Taint) => boolean,
  ) => {
    if (!value) return;
    const taint = engine.taintAt(value, node);
    if (!taint || !(taint.classes & classBit(kind))) return;
    if (taint.stored && kind !== 'xss') return;
    if (accept && !accept(taint)) return;
    hits.push({ kind, unit, node, sink, taint });
  };

  walk(unit.sf, (node) => {
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      const callee = strip(node.expression);
      const name = calleeText(callee);
      const method = lastName(name);
      const root = rootName(name);
      const args = node.arguments ?? [];
      const [first, second] = args;
      const isNew = ts.isNewExpression(node);
      // require('fs').readFileSync(…): the module named inline.
      const inline =
        ts.isPropertyAccessExpression(callee) &&
        ts.isCallExpression(strip(callee.expression)) &&
        calleeText((strip(callee.expression) as ts.CallExpression).expression) === 'require'
          ? literal((strip(callee.expression) as ts.CallExpression).arguments[0])?.replace(/^node:/, '')
          : undefined;
      const imported = inline ? { module: inline, imported: '*' } : bindings.get(root);
      const importedName = imported?.imported === '*' ? undefined : imported?.imported;
      const bare = ts.isIdentifier(callee);
      const effective = bare && importedName ? importedName : method;

      // Code built from a value that is not a constant, wherever it comes from (a parameter, a file, a
      // message): evaluating it is code injection as soon as any caller passes input.
      const dynamicCode = (value: ts.Expression | undefined, sink: string) => {
        if (!value || engine.taintAt(value, node) || !engine.constantText(value).includes('\uE000')) return;
        hits.push({
          kind: 'code',
          unit,
          node,
          sink,
          taint: { classes: classBit('code'), shape: 'scalar', origin: value.getText().slice(0, 40), unknown: true },
        });
      };

      // Code injection: eval, Function, vm, string timers, modules loaded by a name from input.
      if (!isNew && name === 'eval') check('code', node, first, 'eval');
      if (!isNew && name === 'eval') dynamicCode(first, 'eval');
      if (!isNew && bare && name === 'require' && first && literal(first) === undefined)
        check('code', node, first, 'require');
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) check('code', node, first, 'import()');
      if (name === 'Function' || name === 'global.Function' || name === 'globalThis.Function')
        for (const arg of args) {
          check('code', node, arg, `${isNew ? 'new ' : ''}Function`);
          dynamicCode(arg, `${isNew ? 'new ' : ''}Function`);
        }
      const vm = imported?.module === 'vm' || root === 'vm';
      if (
        (vm || (bare && imported?.module === 'vm')) &&
        /^(runInThisContext|runInNewContext|runInContext|compileFunction|Script|SourceTextModule)$/.test(effective)
      ) {
        check('code', node, first, `vm.${effective}`);
        dynamicCode(first, `vm.${effective}`);
      }
      if (bare && /^(setTimeout|setInterval|setImmediate)$/.test(name) && first && !isFunctionLike(strip(first)))
        check('code', node, first, name);

      // Template injection: the template source itself comes from input.
      const templateEngine =
        TEMPLATE_ROOTS.test(root) ||
        TEMPLATE_MODULES.test(moduleOf(root) ?? '') ||
        TEMPLATE_MODULES.test(imported?.module ?? '');
      if (templateEngine && /^(render|compile|renderString|template|compileTemplate|precompile)$/.test(effective))
        check('template', node, first, `${name}`);

      // Command injection.
      const processModule =
        CHILD_PROCESS.test(imported?.module ?? '') || /^(child_process|childProcess|cp|shell|shelljs)$/.test(root);
      if (processModule && /^(exec|execSync|execAsync)$/.test(effective)) check('command', node, first, name);
      if (processModule && /^(spawn|spawnSync|execFile|execFileSync|execa|execaSync)$/.test(effective)) {
        const options = args.find((arg) => ts.isObjectLiteralExpression(arg)) as ts.ObjectLiteralExpression | undefined;
        const shell = options && propertyOf(options, 'shell');
        if (shell && shell.kind !== ts.SyntaxKind.FalseKeyword) {
          check('command', node, first, name);
          if (second && !ts.isObjectLiteralExpression(second)) check('command', node, second, name);
        }
      }
      if (/^(execaCommand|execaCommandSync)$/.test(effective)) check('command', node, first, name);

      // SQL built from input (a string, not a parameter list).
      if (
        ts.isPropertyAccessExpression(callee) &&
        QUERY_METHOD.test(method) &&
        !isPrepared(engine, callee.expression)
      ) {
        const receiver = name.slice(0, -method.length - 1);
        if (DB_RECEIVER.test(receiver) || method.startsWith('$') || method.endsWith('Raw') || method === 'unsafe')
          check('sql', node, first, name, (t) => t.shape === 'scalar');
      }

      // Path traversal.
      const fsCall =
        (FS_MODULES.test(imported?.module ?? '') ||
          /^(fs|fsp|fsPromises|fse|fsExtra)$/.test(root) ||
          (bare && FS_MODULES.test(imported?.module ?? ''))) &&
        FS_PATH_METHODS.has(effective);
      if (fsCall) {
        check('path', node, first, `${name}()`);
        if (TWO_PATHS.has(effective)) check('path', node, second, `${name}()`);
      }
      const response = ts.isPropertyAccessExpression(callee) && isResponse(engine, callee.expression);
      // res.render('tutorial/' + req.params.page): the view name picks a file.
      if (response && method === 'render') check('path', node, first, `${name}()`);
      if (response && /^(sendFile|download|sendfile)$/.test(method)) {
        const options = args.slice(1).find((arg) => ts.isObjectLiteralExpression(arg)) as
          ts.ObjectLiteralExpression | undefined;
        if (!options || !propertyOf(options, 'root')) check('path', node, first, `${name}()`);
      }

      // send(req, path) from the send module, unless confined to a root.
      if (bare && imported?.module === 'send' && second) {
        const options = args[2] && strip(args[2]);
        if (!options || !ts.isObjectLiteralExpression(options) || !propertyOf(options, 'root'))
          check('path', node, second, 'send()');
      }

      // Open redirect.
      if (
        bare &&
        effective === 'redirect' &&
        /^(next\/navigation|@remix-run\/\w+|react-router(-dom)?)$/.test(imported?.module ?? '')
      )
        check('redirect', node, first, `${name}()`, () => !engine.originFixed(first!));
      if (response && method === 'redirect') {
        const target = args.length > 1 && ts.isNumericLiteral(strip(first!)) ? second : args.at(-1);
        check('redirect', node, target, `${name}()`, () => !engine.originFixed(target!));
      }
      // Koa ctx.redirect(url), Hono c.redirect(url) / c.html(markup)
      const context = /^(ctx|context|c)$/.test(root) && name.split('.').length === 2;
      if (context && method === 'redirect')
        check('redirect', node, first, `${name}()`, () => !engine.originFixed(first!));
      if (context && method === 'html') check('xss', node, first, `${name}()`);
      if (/^(NextResponse|Response)\.redirect$/.test(name))
        check('redirect', node, first, `${name}()`, () => !engine.originFixed(first!));
      if (response && method === 'location')
        check('redirect', node, first, `${name}()`, () => !engine.originFixed(first!));
      if (response && /^(setHeader|set|header|append)$/.test(method) && /^location$/i.test(literal(first) ?? ''))
        check('redirect', node, second, `${name}('Location')`, () => !engine.originFixed(second!));
      if (response && method === 'writeHead') {
        for (const arg of args) {
          if (!ts.isObjectLiteralExpression(arg)) continue;
          const location = propertyOf(arg, 'Location') ?? propertyOf(arg, 'location');
          check('redirect', node, location, `${name}({ Location })`, () => !engine.originFixed(location!));
        }
      }
      if (/^(window\.|document\.)?location\.(assign|replace)$|^window\.open$/.test(name))
        check('redirect', node, first, `${name}()`, () => !engine.originFixed(first!));

      // Reflected and stored XSS.
      if (response && /^(send|write|end)$/.test(method)) {
        const replyLike = /^(reply|rep)$/.test(root);
        const html = /text\/html/.test(enclosingText(node));
        if (!replyLike || html)
          // Express sends objects and arrays as JSON; strings as text/html.
          check('xss', node, first, `${name}()`, (t) => method !== 'send' || t.shape === 'scalar');
      }
      if (/^(document\.write|document\.writeln)$/.test(name)) check('xss', node, first, `${name}()`);
      if (method === 'insertAdjacentHTML') check('xss', node, second, `${name}()`);
      if (method === 'html' && /^(\$|jQuery)/.test(name)) check('xss', node, first, `${name}()`);

      // SSRF: the request's URL (or host) comes from input.
      const client = imported?.module ?? moduleOf(root) ?? '';
      const fetchLike =
        (bare && /^(fetch|axios|got|ky|needle|superagent|request|undiciRequest|\$fetch|ofetch)$/.test(name)) ||
        (bare && HTTP_CLIENTS.test(imported?.module ?? '')) ||
        (ts.isPropertyAccessExpression(callee) &&
          (HTTP_CLIENTS.test(client) ||
            /^(axios|got|ky|superagent|needle|http|https|undici)$/.test(root) ||
            isClientInstance(engine, callee.expression)) &&
          HTTP_VERBS.test(method)) ||
        (isNew && /^(WebSocket|EventSource|Request)$/.test(name));
      // Headless browsers fetch what they are told to: page.goto(url).
      if (ts.isPropertyAccessExpression(callee) && method === 'goto' && /page/i.test(calleeText(callee.expression)))
        check('ssrf', node, first, `${name}()`, () => !engine.originFixed(first!));
      if (fetchLike && first) {
        const target = strip(first);
        if (ts.isObjectLiteralExpression(target)) {
          for (const key of ['url', 'baseURL', 'uri', 'href', 'host', 'hostname', 'prefixUrl']) {
            const value = propertyOf(target, key);
            check('ssrf', node, value, `${name}({ ${key} })`, () => !engine.originFixed(value!));
          }
        } else {
          check('ssrf', node, first, `${name}()`, () => !engine.originFixed(first));
          // needle('get', url), axios.request(config)
          if (second && literal(first) !== undefined && name === 'needle')
            check('ssrf', node, second, `${name}()`, () => !engine.originFixed(second));
        }
      }

      // Prototype pollution through merge/set helpers of libraries known for it.
      if (/^(merge|mergeWith|defaultsDeep|set|setWith|zipObjectDeep|extend|deepExtend|mixinDeep)$/.test(effective)) {
        const module = imported?.module ?? moduleOf(root) ?? (/^(_|lodash)$/.test(root) ? 'lodash' : undefined);
        if (
          module &&
          /^(lodash|lodash\.\w+|deep-extend|merge|mixin-deep|set-value|dot-prop|jquery|defaults-deep|merge-deep|deep-merge)$/.test(
            module,
          )
        ) {
          const data = effective === 'set' || effective === 'setWith' ? second : undefined;
          const candidates = data ? [data] : args.slice(1);
          for (const arg of candidates) check('proto', node, arg, `${name}() from ${module}`);
        }
      }
    }

    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      const left = strip(node.left);
      const chain = chainOf(left);
      const last = chain?.at(-1) ?? (ts.isPropertyAccessExpression(left) ? left.name.text : undefined);
      if (last && /^(innerHTML|outerHTML|srcdoc)$/.test(last)) check('xss', node, node.right, `${last} =`);
      if (chain && /^(ctx|context)$/.test(chain[0]!) && last === 'body' && chain.length <= 3)
        check('xss', node, node.right, `${chain.join('.')} =`, (t) => t.shape === 'scalar');
      if (
        chain &&
        (/^(window\.|document\.)?location(\.href)?$/.test(chain.join('.')) || chain.join('.') === 'window.location')
      )
        check('redirect', node, node.right, `${chain.join('.')} =`, () => !engine.originFixed(node.right));
      // obj[key1][key2] = value with both keys from input: writes to Object.prototype via __proto__.
      if (ts.isElementAccessExpression(left) && ts.isElementAccessExpression(strip(left.expression))) {
        const inner = strip(left.expression) as ts.ElementAccessExpression;
        const outerKey = engine.taintAt(left.argumentExpression, node);
        if (outerKey && outerKey.classes & classBit('proto'))
          check('proto', node, inner.argumentExpression, 'a nested property assignment with keys from input');
      }
    }

    if (ts.isJsxAttribute(node) && propertyNameText(node.name as ts.Identifier) === 'dangerouslySetInnerHTML') {
      const value = node.initializer && ts.isJsxExpression(node.initializer) ? node.initializer.expression : undefined;
      const object = value && strip(value);
      const html = object && ts.isObjectLiteralExpression(object) ? propertyOf(object, '__html') : undefined;
      check('xss', node, html, 'dangerouslySetInnerHTML');
      // Markup from anywhere (props, API responses) needs a sanitiser before React inserts it as is.
      if (html && !engine.taintAt(html, node) && !isSanitisedMarkup(engine, html))
        hits.push({
          kind: 'xss',
          unit,
          node,
          sink: 'dangerouslySetInnerHTML',
          taint: {
            classes: classBit('xss'),
            shape: 'scalar',
            origin: `${html.getText().slice(0, 40)} (not sanitised)`,
          },
        });
    }
  });
  return hits;
}

/** A literal, a constant, or a value passed through a sanitiser (DOMPurify.sanitize, sanitizeHtml, xss…). */
function isSanitisedMarkup(engine: TaintEngine, node: ts.Expression, depth = 0): boolean {
  const expression = strip(node);
  if (ts.isStringLiteralLike(expression)) return true;
  if (ts.isCallExpression(expression))
    return /sanitiz|sanitis|purify|escape|xss|markdownToSafe/i.test(lastName(calleeText(expression.expression)));
  if (ts.isIdentifier(expression) && depth < 4) {
    const init = engine.initializerOf(expression);
    return init !== undefined && isSanitisedMarkup(engine, init, depth + 1);
  }
  return false;
}

/** A prepared statement (`db.prepare(sql)`, directly or through a variable): its get/all/run take parameters, not SQL. */
function isPrepared(engine: TaintEngine, receiver: ts.Expression): boolean {
  const expression = strip(receiver);
  const value = ts.isIdentifier(expression) ? engine.initializerOf(expression) : expression;
  return (
    value !== undefined &&
    ts.isCallExpression(strip(value)) &&
    /\.prepare$/.test(calleeText((strip(value) as ts.CallExpression).expression))
  );
}

/** `res`, `response`, a handler's second parameter, or a chain on one (`res.status(302)`). */
export function isResponse(engine: TaintEngine, receiver: ts.Expression): boolean {
  let current = strip(receiver);
  while (ts.isCallExpression(current) || ts.isPropertyAccessExpression(current)) {
    if (ts.isPropertyAccessExpression(current) && ts.isIdentifier(current.expression)) {
      // res.status(…).send: walk to the root; ctx.response / ctx.res count as responses.
      if (/^(ctx|context)$/.test(current.expression.text) && /^(res|response)$/.test(current.name.text)) return true;
    }
    current = strip(current.expression);
  }
  return ts.isIdentifier(current) && engine.isResponseBase(current);
}

/** `const api = axios.create({ … })`, `got.extend(…)`: instances of HTTP clients. */
function isClientInstance(engine: TaintEngine, receiver: ts.Expression): boolean {
  const expression = strip(receiver);
  if (!ts.isIdentifier(expression)) return false;
  const init = engine.initializerOf(expression);
  return init !== undefined && /^(axios|got|ky|superagent)\.(create|extend|agent)\b/.test(init.getText());
}

function enclosingText(node: ts.Node): string {
  for (let current = node.parent; current; current = current.parent) {
    if (isFunctionLike(current)) return current.getText();
  }
  return node.getSourceFile().text;
}
