import ts from 'typescript';
import {
  calleeText,
  chainOf,
  enclosingFunction,
  isFunctionLike,
  lastName,
  lineOf,
  literal,
  moduleBindings,
  propertyNameText,
  rootName,
  strip,
  walk,
  type AnalysisProgram,
  type Unit,
} from './program';

/**
 * Taint analysis over the syntax tree and the checker's symbols: values read from a request (Express,
 * Koa, Fastify, Hono, Next.js, NestJS parameter decorators, AWS Lambda events, the browser's location)
 * are followed through variables, destructuring, string building, common string and path functions,
 * object and array literals, loops, callbacks and calls to the project's own functions (parameters and
 * return values, across files), to the sinks of each vulnerability class. Sanitisers remove the classes
 * they neutralise; guards (allow-lists, regular-expression tests, containment checks) in the same
 * function before the sink do the same. Context-insensitive, flow-insensitive for variables: a
 * variable tainted anywhere is tainted everywhere in its scope.
 */

export const TAINT_CLASSES = [
  'path',
  'redirect',
  'xss',
  'ssrf',
  'code',
  'template',
  'command',
  'sql',
  'proto',
  'log',
  'regex',
  'mass',
  'deser',
] as const;
export type TaintClass = (typeof TAINT_CLASSES)[number];
const BIT = Object.fromEntries(TAINT_CLASSES.map((name, index) => [name, 1 << index])) as Record<TaintClass, number>;
export const classBit = (kind: TaintClass) => BIT[kind];
const ALL = (1 << TAINT_CLASSES.length) - 1;
const BROWSER = BIT.xss | BIT.redirect | BIT.code;

export interface Taint {
  classes: number;
  /** `object`: a parsed body, query or record as a whole (Express sends it as JSON); `scalar`: string-like. */
  shape: 'object' | 'scalar';
  /** Where the value comes from, e.g. `req.query.file (line 4)`. */
  origin: string;
  /** Read from storage (a database), not from the request itself: only stored XSS applies. */
  stored?: boolean;
  /** Not traced to a source: a value that is not a constant reaches a code sink (reported as high, not critical). */
  unknown?: boolean;
}

export interface TaintHit {
  kind: TaintClass;
  unit: Unit;
  node: ts.Node;
  sink: string;
  taint: Taint;
}

// ---- sources ----------------------------------------------------------------------------------

const REQUEST_BASES = new Set(['req', 'request', 'incomingRequest', 'httpRequest']);
const REQUEST_FIELDS = new Set([
  'query',
  'body',
  'params',
  'headers',
  'cookies',
  'signedCookies',
  'url',
  'originalUrl',
  'path',
  'hostname',
  'host',
  'files',
  'file',
  'rawBody',
  'search',
  'searchParams',
  'nextUrl',
  'querystring',
  'href',
]);
const OBJECT_FIELDS = new Set([
  'query',
  'body',
  'params',
  'headers',
  'cookies',
  'signedCookies',
  'files',
  'file',
  'searchParams',
  'nextUrl',
]);
const REQUEST_METHODS = new Set([
  'get',
  'header',
  'param',
  'query',
  'json',
  'text',
  'formData',
  'cookie',
  'parseBody',
  'valid',
  'queries',
]);
const CTX_FIELDS = new Set([
  'query',
  'params',
  'headers',
  'header',
  'url',
  'path',
  'querystring',
  'host',
  'hostname',
  'href',
  'originalUrl',
]);
const EVENT_FIELDS = new Set([
  'body',
  'queryStringParameters',
  'pathParameters',
  'multiValueQueryStringParameters',
  'headers',
  'rawPath',
  'rawQueryString',
  'cookies',
]);
const LOCATION_FIELDS = new Set(['hash', 'search', 'href', 'pathname']);
// Receivers that read stored records: the sources of stored XSS.
const STORE_WORDS = new Set([
  'db',
  'database',
  'conn',
  'connection',
  'client',
  'pool',
  'knex',
  'sequelize',
  'sql',
  'prisma',
  'repo',
  'repository',
  'model',
  'collection',
  'store',
  'redis',
  'mongo',
  'dao',
  'em',
  'manager',
  'table',
  'orm',
]);
const RESPONSE_BASES = new Set(['res', 'response', 'resp', 'reply', 'rep']);
const ROUTE_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'del', 'all', 'use', 'options', 'head']);
const NEST_SOURCES = new Set([
  'Query',
  'Body',
  'Param',
  'Headers',
  'Cookies',
  'UploadedFile',
  'UploadedFiles',
  'RawBody',
]);
const NEST_REQUEST = new Set(['Req', 'Request']);
const REQUEST_TYPE =
  /\b(Request|IncomingMessage|FastifyRequest|NextRequest|NextApiRequest|HttpRequest|APIGatewayProxyEvent\w*)\b/;

/** The origin text of archive-entry names: findings from it are zip slip. */
export const ARCHIVE_ORIGIN = 'the name of an archive entry';

/**
 * The parameter holding an archive entry: `.on('entry', (entry) => …)` (unzipper, yauzl, tar, tar-stream),
 * `onentry(entry)` / `onentry: (entry) => …` (tar), `zip.forEach((relativePath, file) => …)` (jszip).
 */
function archiveEntryParameter(node: ts.Node): ts.ParameterDeclaration | undefined {
  if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
    const method = node.expression.name.text;
    const [first, second] = node.arguments;
    if (/^(on|once)$/.test(method) && literal(first) === 'entry' && second && isFunctionLike(second))
      return second.parameters[0];
    const receiver = calleeText(node.expression.expression);
    if (
      method === 'forEach' &&
      /zip/i.test(receiver) &&
      first &&
      isFunctionLike(first) &&
      first.parameters.length === 2
    )
      return first.parameters[0];
  }
  if ((ts.isPropertyAssignment(node) || ts.isMethodDeclaration(node)) && propertyNameText(node.name) === 'onentry') {
    const fn = ts.isPropertyAssignment(node) ? strip(node.initializer) : node;
    if (isFunctionLike(fn)) return fn.parameters[0];
  }
  return undefined;
}

// ---- propagation ------------------------------------------------------------------------------

// Methods of a tainted value whose result says nothing about its content (booleans, numbers).
const CLEAN_METHODS = new Set([
  'includes',
  'startsWith',
  'endsWith',
  'test',
  'indexOf',
  'lastIndexOf',
  'has',
  'some',
  'every',
  'localeCompare',
  'charCodeAt',
  'codePointAt',
  'search',
  'getTime',
  'digest',
  'compare',
  'isArray',
  'findIndex',
]);
const CLEAN_PROPERTIES = new Set(['length', 'size', 'byteLength']);
// Numeric columns of stored rows: not markup.
const STORED_CLEAN_PROPERTIES = new Set([
  'rowCount',
  'affectedRows',
  'changes',
  'count',
  'total',
  'insertId',
  'lastID',
  'lastInsertRowid',
  'id',
  'createdAt',
  'updatedAt',
]);
const ARRAY_RESULT = new Set(['split', 'map', 'filter', 'flatMap', 'entries', 'keys', 'values', 'matchAll']);
const ITERATORS = new Set(['forEach', 'map', 'filter', 'flatMap', 'find', 'some', 'every', 'reduce', 'sort']);
const MUTATORS = new Set(['push', 'unshift', 'splice', 'set', 'append', 'add']);
// Functions and methods whose result carries their arguments' content.
const PROPAGATORS = new Set([
  'join',
  'resolve',
  'normalize',
  'relative',
  'format',
  'concat',
  'replace',
  'replaceAll',
  'parse',
  'from',
  'stringify',
  'decodeURIComponent',
  'decodeURI',
  'unescape',
  'assign',
  'fromEntries',
  'keys',
  'values',
  'entries',
  'String',
  'sprintf',
  'marked',
  'fileURLToPath',
  'atob',
  'structuredClone',
  'cloneDeep',
  'clone',
  'toString',
  'dirname',
  'extname',
  'posix',
]);
const OBJECT_RESULT = new Set([
  'parse',
  'assign',
  'fromEntries',
  'keys',
  'values',
  'entries',
  'from',
  'structuredClone',
  'cloneDeep',
  'clone',
]);

// Sanitisers by name, with the classes they neutralise.
const NUMERIC = /^(Number|parseInt|parseFloat|BigInt|Boolean|isNaN|toFixed|round|floor|ceil|abs|trunc|max|min)$/;
// Every matching pattern applies (`escape` is both an HTML and an SQL escaper).
const SANITISERS: [RegExp, number][] = [
  [NUMERIC, ALL],
  [
    /^(escapeRegExp|escapeRegex|escapeRegexp|escapeStringRegexp|escapeStringRegExp|regexEscape|regExpEscape|quotemeta)$/i,
    BIT.regex,
  ],
  [/^stringify$/, BIT.log],
  [
    /(sanitiz|sanitis|escape|clean|strip|neutrali[sz]e|remove)\w*(Log|Newline|NewLine|Crlf|CRLF|LineBreak|ControlChar)/,
    BIT.log,
  ],
  [/^(uuidValidate|validateUuid|isUUID|isUuid)$/, ALL],
  [/^(basename|sanitizeFilename|sanitiseFilename|filenamify)$/, BIT.path],
  [
    /escape|sanitiz|sanitis|purify|^xss$|filterXSS|stripTags|strip_tags|htmlEncode|encodeHTML|encodeHtml|^encode$|entities/i,
    BIT.xss,
  ],
  [/^(encodeURIComponent|encodeURI)$/, BIT.xss | BIT.redirect | BIT.ssrf | BIT.log],
  [/^(escape|escapeId|escapeLiteral|escapeIdentifier|quoteIdent|quote_ident|pgFormat|ident|literal)$/, BIT.sql],
  [/^(quote|shellEscape|shellescape|escapeShellArg|shellQuote)$/, BIT.command],
  [/^(safeRedirect|sanitizeUrl|sanitiseUrl)$/, BIT.redirect],
];

/** A regular-expression literal as a RegExp (without g/y, so `test` has no state), or undefined. */
export function compileLiteral(node: ts.Node | undefined): RegExp | undefined {
  if (!node || !ts.isRegularExpressionLiteral(node)) return undefined;
  const end = node.text.lastIndexOf('/');
  try {
    return new RegExp(node.text.slice(1, end), node.text.slice(end + 1).replace(/[gy]/g, ''));
  } catch {
    return undefined;
  }
}

/** The classes a `.replace(pattern, …)` neutralises: markup, `../`, line breaks, regex metacharacters. */
function replacedClasses(pattern: ts.Expression | undefined, all: boolean): number {
  if (pattern && ts.isStringLiteralLike(pattern)) return all && /[\r\n]/.test(pattern.text) ? BIT.log : 0;
  const regex = compileLiteral(pattern);
  if (!regex || !pattern) return 0;
  let removed = 0;
  if (/[<>]/.test(pattern.getText())) removed |= BIT.xss;
  if (/\.\.|\\\.\\\./.test(pattern.getText()) && /\//.test(pattern.getText())) removed |= BIT.path;
  if (regex.test('\n')) removed |= BIT.log;
  if (['*', '+', '(', '['].every((c) => regex.test(c))) removed |= BIT.regex;
  return removed;
}

// ---- guards -----------------------------------------------------------------------------------

const VALIDATOR =
  /^(is|assert|ensure|check|validate|verify)[A-Z_]|^validate$|Validate$|allow|whitelist|permitted|trusted|isSafe|isValid/;
const TYPE_CHECK =
  /^is(String|Object|Array|Empty|Defined|Undefined|Null|Function|Buffer|Authenticated|Admin|LoggedIn|PlainObject)$/;
const NORMALISERS = /^(resolve|normalize|join|realpath|realpathSync)$/;
// Parts of a URL that decide where it points: checking them checks the URL.
const IDENTITY_PROPERTIES = new Set(['host', 'hostname', 'origin', 'href']);

interface Guard {
  end: number;
  fn: ts.Node;
  syms: Set<ts.Symbol>;
  keys: Set<string>;
  classes: number;
  /** Applies to every value in the function (e.g. a non-HTML content type). */
  any?: boolean;
}

interface Subjects {
  syms: Set<ts.Symbol>;
  keys: Set<string>;
}

const isAssignment = (kind: ts.SyntaxKind) =>
  kind >= ts.SyntaxKind.FirstAssignment && kind <= ts.SyntaxKind.LastAssignment;

export class TaintEngine {
  private readonly symTaint = new Map<ts.Symbol, Taint>();
  private readonly fnReturn = new Map<ts.Node, Taint>();
  private readonly deps = new Map<ts.Symbol, Set<ts.Symbol>>();
  private readonly rdeps = new Map<ts.Symbol, Set<ts.Symbol>>();
  private readonly requestSyms = new Set<ts.Symbol>();
  private readonly responseSyms = new Set<ts.Symbol>();
  private readonly guards = new Map<ts.SourceFile, Guard[]>();
  readonly bindings = new Map<ts.SourceFile, Map<string, { module: string; imported: string }>>();
  private changed = false;

  constructor(private readonly program: AnalysisProgram) {
    for (const unit of program.units) this.bindings.set(unit.sf, moduleBindings(unit.sf));
  }

  get checker(): ts.TypeChecker {
    return this.program.checker;
  }

  /** Seeds the sources, propagates to a fixed point and collects guards. */
  run(): void {
    for (const unit of this.program.units) this.seed(unit);
    // Guards apply during propagation too: a helper returning its argument only when it is on an allow-list is clean.
    for (const unit of this.program.units) this.guards.set(unit.sf, this.collectGuards(unit));
    for (let round = 0; round < 8; round++) {
      this.changed = false;
      for (const unit of this.program.units) this.propagate(unit);
      if (!this.changed) break;
    }
  }

  // ---- symbols ----

  private readonly symbolCache = new Map<ts.Node, ts.Symbol | undefined>();

  symbolOf(node: ts.Node): ts.Symbol | undefined {
    if (this.symbolCache.has(node)) return this.symbolCache.get(node);
    const symbol = this.resolveSymbol(node);
    this.symbolCache.set(node, symbol);
    return symbol;
  }

  private resolveSymbol(node: ts.Node): ts.Symbol | undefined {
    let symbol: ts.Symbol | undefined;
    try {
      symbol =
        ts.isShorthandPropertyAssignment(node.parent) && node.parent.name === node
          ? this.checker.getShorthandAssignmentValueSymbol(node.parent)
          : this.checker.getSymbolAtLocation(node);
      if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = this.checker.getAliasedSymbol(symbol);
    } catch {
      return undefined;
    }
    return symbol;
  }

  /** The function a callee refers to, when the project defines it (with a body). */
  functionOf(callee: ts.Expression): ts.FunctionLikeDeclaration | undefined {
    const target = strip(callee);
    const name = ts.isPropertyAccessExpression(target) ? target.name : target;
    const symbol = this.symbolOf(name);
    for (const declaration of symbol?.declarations ?? []) {
      if (isFunctionLike(declaration) && declaration.body) return declaration;
      const init =
        ts.isVariableDeclaration(declaration) ||
        ts.isPropertyAssignment(declaration) ||
        ts.isPropertyDeclaration(declaration)
          ? declaration.initializer && strip(declaration.initializer)
          : undefined;
      if (init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) return init;
    }
    return undefined;
  }

  /** The expression a variable was initialised with, when it has exactly one declaration. */
  initializerOf(identifier: ts.Identifier): ts.Expression | undefined {
    const declarations = this.symbolOf(identifier)?.declarations ?? [];
    const declaration = declarations.length === 1 ? declarations[0] : undefined;
    return declaration && ts.isVariableDeclaration(declaration) && ts.isIdentifier(declaration.name)
      ? declaration.initializer
      : undefined;
  }

  private isRequestBase(identifier: ts.Node): boolean {
    if (!ts.isIdentifier(identifier)) return false;
    if (REQUEST_BASES.has(identifier.text)) return true;
    const symbol = this.symbolOf(identifier);
    return symbol !== undefined && this.requestSyms.has(symbol);
  }

  isResponseBase(identifier: ts.Node): boolean {
    if (!ts.isIdentifier(identifier)) return false;
    if (RESPONSE_BASES.has(identifier.text)) return true;
    const symbol = this.symbolOf(identifier);
    return symbol !== undefined && this.responseSyms.has(symbol);
  }

  private addTaint(symbol: ts.Symbol | undefined, taint: Taint | undefined): void {
    if (!symbol || !taint) return;
    const current = this.symTaint.get(symbol);
    if (!current) {
      this.symTaint.set(symbol, taint);
      this.changed = true;
      return;
    }
    const classes = current.classes | taint.classes;
    const shape = current.shape === 'scalar' || taint.shape === 'scalar' ? 'scalar' : 'object';
    const stored = current.stored && taint.stored;
    if (classes !== current.classes || shape !== current.shape || stored !== current.stored) {
      this.symTaint.set(symbol, { ...(current.stored && !stored ? taint : current), classes, shape, stored });
      this.changed = true;
    }
  }

  private addDeps(symbol: ts.Symbol | undefined, from: ts.Node): void {
    if (!symbol) return;
    for (const dep of this.identifierSymbols(from)) {
      if (dep === symbol) continue;
      const set = this.deps.get(symbol) ?? new Set();
      set.add(dep);
      this.deps.set(symbol, set);
      const reverse = this.rdeps.get(dep) ?? new Set();
      reverse.add(symbol);
      this.rdeps.set(dep, reverse);
    }
  }

  /** Symbols of the identifiers used as values in an expression (not property names). */
  private identifierSymbols(node: ts.Node): ts.Symbol[] {
    const found: ts.Symbol[] = [];
    const visit = (child: ts.Node) => {
      if (ts.isIdentifier(child)) {
        const parent = child.parent;
        const isName =
          (ts.isPropertyAccessExpression(parent) && parent.name === child) ||
          (ts.isPropertyAssignment(parent) && parent.name === child);
        if (!isName && !this.isRequestBase(child) && !this.isResponseBase(child)) {
          const symbol = this.symbolOf(child);
          if (symbol) found.push(symbol);
        }
      }
      if (isFunctionLike(child)) return;
      child.forEachChild(visit);
    };
    visit(node);
    return found;
  }

  // ---- seeding ----

  private seed(unit: Unit): void {
    walk(unit.sf, (node) => {
      // NestJS: @Query(), @Body(), @Param() parameters are input; @Req() is the request.
      if (ts.isParameter(node)) {
        const decorators = ts.canHaveDecorators(node) ? (ts.getDecorators(node) ?? []) : [];
        for (const decorator of decorators) {
          const name = ts.isCallExpression(decorator.expression) ? calleeText(decorator.expression.expression) : '';
          if (NEST_SOURCES.has(name)) {
            const call = decorator.expression as ts.CallExpression;
            const shape = call.arguments.length > 0 ? 'scalar' : 'object';
            this.bindPattern(node.name, this.source(`@${name}()`, node, shape), undefined);
          }
          if (NEST_REQUEST.has(name) && ts.isIdentifier(node.name)) this.markRequest(node.name);
        }
        if (node.type && REQUEST_TYPE.test(node.type.getText(unit.sf)) && ts.isIdentifier(node.name))
          this.markRequest(node.name);
      }
      // Archive entries (unzipper, yauzl, tar, tar-stream, jszip): their names are chosen by whoever made the archive.
      const entry = archiveEntryParameter(node);
      if (entry) this.bindPattern(entry.name, this.archiveSource(entry), undefined);
      // app.get('/x', (rq, rs) => …), router.use(fn), http.createServer((rq, rs) => …): handler parameters.
      if (ts.isCallExpression(node)) {
        const name = calleeText(node.expression);
        const method = lastName(name);
        const isRoute = ts.isPropertyAccessExpression(node.expression) && ROUTE_METHODS.has(method);
        if (!isRoute && !/^(createServer|createSecureServer)$/.test(method)) return;
        for (const arg of node.arguments) {
          const handler = ts.isIdentifier(arg) ? this.functionOf(arg) : isFunctionLike(arg) ? arg : undefined;
          if (!handler || handler.parameters.length < 2) continue;
          const [request, response] = handler.parameters;
          if (request && ts.isIdentifier(request.name)) this.markRequest(request.name);
          if (request && ts.isObjectBindingPattern(request.name)) {
            for (const element of request.name.elements) {
              const key = element.propertyName ? propertyNameText(element.propertyName) : undefined;
              const field = key ?? (ts.isIdentifier(element.name) ? element.name.text : '');
              if (REQUEST_FIELDS.has(field))
                this.bindPattern(
                  element.name,
                  this.source(`req.${field}`, element, OBJECT_FIELDS.has(field) ? 'object' : 'scalar'),
                  undefined,
                );
            }
          }
          if (response && ts.isIdentifier(response.name)) {
            const symbol = this.symbolOf(response.name);
            if (symbol) this.responseSyms.add(symbol);
          }
        }
      }
      // ({ params, query }, res, next) => …: a handler destructuring the request, wherever it is registered.
      if (isFunctionLike(node) && node.parameters.length >= 2) {
        const [request, response] = node.parameters;
        if (
          request &&
          response &&
          ts.isObjectBindingPattern(request.name) &&
          ts.isIdentifier(response.name) &&
          RESPONSE_BASES.has(response.name.text)
        ) {
          for (const element of request.name.elements) {
            const key = element.propertyName ? propertyNameText(element.propertyName) : undefined;
            const field = key ?? (ts.isIdentifier(element.name) ? element.name.text : '');
            if (REQUEST_FIELDS.has(field))
              this.bindPattern(
                element.name,
                this.source(`req.${field}`, element, OBJECT_FIELDS.has(field) ? 'object' : 'scalar'),
                undefined,
              );
          }
        }
      }
      // Next.js route handlers: export async function GET(request) { … }
      if (
        ts.isFunctionDeclaration(node) &&
        node.name &&
        /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|handler)$/.test(node.name.text)
      ) {
        const first = node.parameters[0];
        if (first && ts.isIdentifier(first.name)) this.markRequest(first.name);
      }
    });
  }

  private markRequest(name: ts.Identifier): void {
    const symbol = this.symbolOf(name);
    if (symbol) this.requestSyms.add(symbol);
  }

  /** Names of archive entries: only path sinks matter (zip slip). */
  private archiveSource(node: ts.Node): Taint {
    return { ...this.source('', node, 'object', BIT.path), origin: `${ARCHIVE_ORIGIN} (line ${lineOf(node)})` };
  }

  private source(text: string, node: ts.Node, shape: Taint['shape'], classes = ALL): Taint {
    return { classes, shape, origin: `${text.length > 60 ? `${text.slice(0, 57)}...` : text} (line ${lineOf(node)})` };
  }

  /** A request value named by a property chain: `req.query.file`, `ctx.request.body`, `event.body`, `location.hash`. */
  private chainSource(segments: string[], node: ts.Node, root: ts.Node | undefined): Taint | undefined {
    const text = segments.join('.');
    for (let i = 0; i + 1 < segments.length; i++) {
      const base = segments[i]!;
      const isBase = REQUEST_BASES.has(base) || (i === 0 && root !== undefined && this.isRequestBase(root));
      if (isBase && REQUEST_FIELDS.has(segments[i + 1]!)) {
        const whole = segments.length === i + 2 && OBJECT_FIELDS.has(segments[i + 1]!);
        return this.source(text, node, whole ? 'object' : 'scalar');
      }
    }
    const [first, second, third] = segments;
    if ((first === 'ctx' || first === 'context') && second && CTX_FIELDS.has(second))
      return this.source(text, node, segments.length === 2 && second !== 'url' ? 'object' : 'scalar');
    if ((first === 'event' || first === 'evt') && second && EVENT_FIELDS.has(second))
      return this.source(text, node, segments.length === 2 && second !== 'body' ? 'object' : 'scalar');
    if (first === 'location' && second && LOCATION_FIELDS.has(second))
      return this.source(text, node, 'scalar', BROWSER);
    if (
      (first === 'window' || first === 'document') &&
      second === 'location' &&
      (third === undefined || LOCATION_FIELDS.has(third))
    )
      return this.source(text, node, 'scalar', BROWSER);
    if (first === 'document' && second && /^(URL|documentURI|referrer|cookie)$/.test(second))
      return this.source(text, node, 'scalar', BROWSER);
    if (first === 'window' && second === 'name') return this.source(text, node, 'scalar', BROWSER);
    return undefined;
  }

  private rootIdentifier(node: ts.Expression): ts.Node | undefined {
    let current = strip(node);
    while (
      ts.isPropertyAccessExpression(current) ||
      ts.isElementAccessExpression(current) ||
      ts.isCallExpression(current)
    )
      current = strip(current.expression);
    return ts.isIdentifier(current) ? current : undefined;
  }

  /** A value read from a database (rows, documents, cached entries): the source of stored XSS. */
  private storedSource(call: ts.CallExpression): Taint | undefined {
    if (!ts.isPropertyAccessExpression(call.expression)) return undefined;
    const method = call.expression.name.text;
    if (
      !/^(find(One|ById|All|Many|Unique|First|OneBy|By|AndCount|OrFail)?\w*|query|get|all|first|select|fetch(All|One|Row|Rows)|getItem|hget(all)?|aggregate|execute)$/.test(
        method,
      ) ||
      /^find(Index|Last|LastIndex)$/.test(method)
    )
      return undefined;
    const receiver = calleeText(call.expression.expression);
    const root = rootName(receiver);
    if (REQUEST_BASES.has(root) || RESPONSE_BASES.has(root) || root === 'ctx') return undefined;
    const words = receiver
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .toLowerCase()
      .split(/[^a-z0-9]+/);
    const dbLike =
      words.some((word) => STORE_WORDS.has(word)) ||
      // Mongoose / Sequelize models: Post.find(), Comment.findAll()
      (/^[A-Z][a-z]/.test(root) && receiver === root && /^find/.test(method));
    if (!dbLike) return undefined;
    return {
      ...this.source(`${receiver}.${method}()`, call, 'object', BIT.xss),
      origin: `data read by ${receiver}.${method}() (line ${lineOf(call)})`,
      stored: true,
    };
  }

  // ---- expression taint ----

  taintOf(node: ts.Expression | undefined): Taint | undefined {
    if (!node) return undefined;
    const expression = strip(node);
    if (ts.isIdentifier(expression)) {
      if (expression.text === 'undefined') return undefined;
      const symbol = this.symbolOf(expression);
      return symbol ? this.symTaint.get(symbol) : undefined;
    }
    if (ts.isPropertyAccessExpression(expression) || ts.isElementAccessExpression(expression)) {
      const segments = chainOf(expression);
      if (segments) {
        const source = this.chainSource(segments, expression, this.rootIdentifier(expression));
        if (source) return source;
        // jszip: zip.files maps entry names to entries.
        if (segments.length === 2 && segments[1] === 'files' && /zip|archive/i.test(segments[0]!))
          return this.archiveSource(expression);
      }
      const base = this.taintOf(expression.expression);
      if (!base) return undefined;
      const name = ts.isPropertyAccessExpression(expression)
        ? expression.name.text
        : literal(expression.argumentExpression);
      if (name && CLEAN_PROPERTIES.has(name)) return undefined;
      if (name && base.stored && STORED_CLEAN_PROPERTIES.has(name)) return undefined;
      return { ...base, shape: base.stored && !name ? 'object' : 'scalar' };
    }
    if (ts.isCallExpression(expression)) return this.callTaint(expression);
    if (ts.isNewExpression(expression)) {
      const name = calleeText(expression.expression);
      if (/^(URL|URLSearchParams|String|Buffer)$/.test(name))
        return this.union(
          (expression.arguments ?? []).map((arg) => this.taintOf(arg)),
          'scalar',
        );
      return undefined;
    }
    if (ts.isTemplateExpression(expression))
      return this.union(
        expression.templateSpans.map((span) => this.taintOf(span.expression)),
        'scalar',
      );
    if (ts.isTaggedTemplateExpression(expression)) return undefined;
    if (ts.isBinaryExpression(expression)) {
      const op = expression.operatorToken.kind;
      if (op === ts.SyntaxKind.PlusToken || op === ts.SyntaxKind.PlusEqualsToken)
        return this.union([this.taintOf(expression.left), this.taintOf(expression.right)], 'scalar');
      if (
        op === ts.SyntaxKind.BarBarToken ||
        op === ts.SyntaxKind.QuestionQuestionToken ||
        op === ts.SyntaxKind.AmpersandAmpersandToken
      )
        return this.union([
          op === ts.SyntaxKind.AmpersandAmpersandToken ? undefined : this.taintOf(expression.left),
          this.taintOf(expression.right),
        ]);
      if (op === ts.SyntaxKind.CommaToken || op === ts.SyntaxKind.EqualsToken) return this.taintOf(expression.right);
      return undefined;
    }
    if (ts.isConditionalExpression(expression))
      return this.union([this.taintOf(expression.whenTrue), this.taintOf(expression.whenFalse)]);
    if (ts.isArrayLiteralExpression(expression))
      return this.union(
        expression.elements.map((element) => this.taintOf(element)),
        'object',
      );
    if (ts.isSpreadElement(expression)) return this.taintOf(expression.expression);
    if (ts.isObjectLiteralExpression(expression)) {
      const parts = expression.properties.map((property) => {
        if (ts.isPropertyAssignment(property)) return this.taintOf(property.initializer);
        if (ts.isShorthandPropertyAssignment(property)) return this.taintOf(property.name);
        if (ts.isSpreadAssignment(property)) return this.taintOf(property.expression);
        return undefined;
      });
      return this.union(parts, 'object');
    }
    return undefined;
  }

  private union(parts: (Taint | undefined)[], shape?: Taint['shape']): Taint | undefined {
    const present = parts.filter((part): part is Taint => part !== undefined);
    if (present.length === 0) return undefined;
    const first = present.find((part) => !part.stored) ?? present[0]!;
    return {
      classes: present.reduce((mask, part) => mask | part.classes, 0),
      shape: shape ?? (present.some((part) => part.shape === 'scalar') ? 'scalar' : 'object'),
      origin: first.origin,
      stored: present.every((part) => part.stored) || undefined,
    };
  }

  private callTaint(call: ts.CallExpression): Taint | undefined {
    const callee = strip(call.expression);
    const name = calleeText(callee);
    const method = lastName(name);
    // Request accessors: req.get('x'), req.header('x'), await req.json(), c.req.query('q'), ctx.cookies.get().
    if (ts.isPropertyAccessExpression(callee) && REQUEST_METHODS.has(method)) {
      const receiver = strip(callee.expression);
      const receiverChain = chainOf(receiver);
      const last = receiverChain?.at(-1);
      if (
        (last && REQUEST_BASES.has(last)) ||
        (receiverChain?.length === 1 && this.isRequestBase(receiver)) ||
        (receiverChain &&
          /^(ctx|context)$/.test(receiverChain[0]!) &&
          (receiverChain.length === 1 || /^(cookies|request|headers)$/.test(receiverChain[1]!)) &&
          receiverChain.length <= 2)
      ) {
        return this.source(`${name}()`, call, /^(json|formData|parseBody|queries)$/.test(method) ? 'object' : 'scalar');
      }
    }
    // adm-zip: zip.getEntries() lists entries with names from the archive.
    if (method === 'getEntries' && ts.isPropertyAccessExpression(callee)) return this.archiveSource(call);
    const args = call.arguments.map((arg) => this.taintOf(arg));
    const receiverTaint = ts.isPropertyAccessExpression(callee) ? this.taintOf(callee.expression) : undefined;
    const neutralised = SANITISERS.reduce(
      (mask, [pattern, classes]) => (pattern.test(method) ? mask | classes : mask),
      0,
    );
    // A helper of the project: what it returns (its own replace calls), less what its name promises.
    const helper = this.functionOf(callee);
    if (helper && neutralised) {
      const returned = this.fnReturn.get(helper);
      const remaining = returned ? returned.classes & ~neutralised : 0;
      return remaining ? { ...returned!, classes: remaining } : undefined;
    }
    if (neutralised) {
      const inner = this.union([...args, receiverTaint]);
      if (!inner) return undefined;
      const remaining = inner.classes & ~neutralised;
      return remaining ? { ...inner, classes: remaining, shape: 'scalar' } : undefined;
    }
    // `.replace(/[<>&"']/g, …)`, `.replace(/[\r\n]/g, '')`: escaping done inline.
    if ((method === 'replace' || method === 'replaceAll') && receiverTaint) {
      const removed = replacedClasses(call.arguments[0], method === 'replaceAll');
      if (removed) {
        const classes = receiverTaint.classes & ~removed;
        return classes ? { ...receiverTaint, classes } : undefined;
      }
    }
    const stored = this.storedSource(call);
    if (stored) return stored;
    const fn = this.functionOf(callee);
    if (fn) return this.fnReturn.get(fn);
    if (receiverTaint) {
      if (CLEAN_METHODS.has(method)) return undefined;
      // ids.map((_, i) => `$${i + 1}`): the result holds what the callback returns, not the elements.
      const mapper = call.arguments[0] && strip(call.arguments[0]);
      if ((method === 'map' || method === 'flatMap') && mapper && isFunctionLike(mapper)) {
        const returned = this.fnReturn.get(mapper);
        return returned && { ...returned, shape: 'object' };
      }
      if (ITERATORS.has(method) && method !== 'map' && method !== 'filter' && method !== 'flatMap' && method !== 'sort')
        return method === 'find' ? { ...receiverTaint, shape: 'scalar' } : undefined;
      const shape = ARRAY_RESULT.has(method) ? 'object' : 'scalar';
      return this.union([receiverTaint, ...(PROPAGATORS.has(method) ? args : [])], shape);
    }
    if (PROPAGATORS.has(method) || PROPAGATORS.has(name)) {
      const shape = OBJECT_RESULT.has(method) && name !== 'String' ? 'object' : 'scalar';
      return this.union(args, shape);
    }
    return undefined;
  }

  /**
   * Taint that reaches `at`: guards before it in the enclosing functions remove the classes they protect.
   * `strictlyBefore`: only guards that start before `at` does (a check that is itself the sink guards nothing).
   */
  taintAt(node: ts.Expression | undefined, at: ts.Node, strictlyBefore = false): Taint | undefined {
    const taint = this.taintOf(node);
    if (!taint || !node) return taint;
    const mask = this.guardMask(node, at, strictlyBefore ? at.getStart() : at.end);
    const classes = taint.classes & ~mask;
    return classes ? { ...taint, classes } : undefined;
  }

  // ---- propagation ----

  private propagate(unit: Unit): void {
    walk(unit.sf, (node) => {
      if (ts.isVariableDeclaration(node) && node.initializer) {
        this.bindPattern(node.name, this.taintAt(node.initializer, node.initializer), node.initializer);
      } else if (ts.isBinaryExpression(node) && isAssignment(node.operatorToken.kind)) {
        this.assign(node.left, node.right);
      } else if (ts.isForOfStatement(node) || ts.isForInStatement(node)) {
        const taint = this.taintOf(node.expression);
        const shaped = taint && { ...taint, shape: 'scalar' as const };
        const init = node.initializer;
        if (ts.isVariableDeclarationList(init)) {
          for (const declaration of init.declarations) this.bindPattern(declaration.name, shaped, node.expression);
        } else if (ts.isIdentifier(init)) {
          this.addTaint(this.symbolOf(init), shaped);
        }
      } else if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
        this.propagateCall(node);
      } else if (ts.isReturnStatement(node) && node.expression) {
        this.addReturn(enclosingFunction(node), this.taintAt(node.expression, node));
      } else if (ts.isArrowFunction(node) && !ts.isBlock(node.body)) {
        this.addReturn(node, this.taintAt(node.body, node.body));
      }
    });
  }

  private addReturn(fn: ts.Node, taint: Taint | undefined): void {
    if (!taint || ts.isSourceFile(fn)) return;
    const current = this.fnReturn.get(fn);
    if (!current) {
      this.fnReturn.set(fn, taint);
      this.changed = true;
      return;
    }
    const merged = this.union([current, taint])!;
    if (merged.classes !== current.classes || merged.shape !== current.shape || merged.stored !== current.stored) {
      this.fnReturn.set(fn, merged);
      this.changed = true;
    }
  }

  bindPattern(name: ts.BindingName, taint: Taint | undefined, from: ts.Expression | undefined): void {
    if (ts.isIdentifier(name)) {
      const symbol = this.symbolOf(name);
      if (from) this.addDeps(symbol, from);
      this.addTaint(symbol, taint);
      return;
    }
    const base = from && chainOf(from);
    for (const element of name.elements) {
      if (ts.isOmittedExpression(element)) continue;
      let child: Taint | undefined;
      const key = !ts.isObjectBindingPattern(name)
        ? undefined
        : element.propertyName
          ? propertyNameText(element.propertyName)
          : ts.isIdentifier(element.name)
            ? element.name.text
            : undefined;
      // const { query, body } = req; const { file } = req.query;
      if (base && key) child = this.chainSource([...base, key], element, from && this.rootIdentifier(from));
      if (!child && taint) child = { ...taint, shape: ts.isIdentifier(element.name) ? 'scalar' : 'object' };
      if (child && ts.isObjectBindingPattern(element.name)) child = { ...child, shape: 'object' };
      this.bindPattern(element.name, child, from);
    }
  }

  private assign(left: ts.Expression, right: ts.Expression): void {
    const target = strip(left);
    const taint = this.taintAt(right, right);
    if (ts.isIdentifier(target)) {
      const symbol = this.symbolOf(target);
      this.addDeps(symbol, right);
      this.addTaint(symbol, taint);
      return;
    }
    if (!taint) return;
    if (ts.isPropertyAccessExpression(target) || ts.isElementAccessExpression(target)) {
      const root = this.rootIdentifier(target);
      if (
        root &&
        !this.isResponseBase(root) &&
        !/^(ctx|context|window|document|location|module|exports)$/.test((root as ts.Identifier).text)
      )
        this.addTaint(this.symbolOf(root), { ...taint, shape: 'object' });
    }
  }

  private propagateCall(call: ts.CallExpression | ts.NewExpression): void {
    const args = call.arguments ?? [];
    const fn = this.functionOf(call.expression);
    if (fn) {
      args.forEach((arg, index) => {
        const taint = this.taintAt(arg, call);
        const parameter = fn.parameters[index] ?? fn.parameters.find((p) => p.dotDotDotToken);
        if (!parameter) return;
        this.bindPattern(
          parameter.name,
          parameter.dotDotDotToken ? taint && { ...taint, shape: 'object' } : taint,
          arg,
        );
      });
    }
    const callee = strip(call.expression);
    if (!ts.isPropertyAccessExpression(callee)) return;
    // db.all(sql, (err, rows) => …): rows read through a callback are stored data.
    const stored = ts.isCallExpression(call) ? this.storedSource(call) : undefined;
    const last = args.at(-1);
    if (stored && last && (ts.isArrowFunction(last) || ts.isFunctionExpression(last))) {
      const rows = last.parameters[last.parameters.length > 1 ? 1 : 0];
      if (rows) this.bindPattern(rows.name, stored, undefined);
    }
    const method = callee.name.text;
    const receiver = callee.expression;
    if (ITERATORS.has(method) || method === 'then') {
      const taint = this.taintOf(receiver);
      const callback = args[0];
      if (taint && callback && (ts.isArrowFunction(callback) || ts.isFunctionExpression(callback))) {
        const parameter = callback.parameters[method === 'reduce' ? 1 : 0];
        if (parameter)
          this.bindPattern(parameter.name, method === 'then' ? taint : { ...taint, shape: 'scalar' }, receiver);
      }
    }
    if (MUTATORS.has(method) || calleeText(callee) === 'Object.assign') {
      const taint = this.union(args.slice(calleeText(callee) === 'Object.assign' ? 1 : 0).map((a) => this.taintOf(a)));
      const target = calleeText(callee) === 'Object.assign' ? args[0] : receiver;
      const root = target && this.rootIdentifier(target);
      if (taint && root && !this.isResponseBase(root))
        this.addTaint(this.symbolOf(root), { ...taint, shape: 'object' });
    }
  }

  // ---- guards ----

  /**
   * What a guard checks: variables used as values (`x`, `url.hostname`, `url.origin`) by symbol, and property
   * chains by text (`req.query.next`, `body.name`). `url.pathname === '/out'` checks a part of `url` that
   * says nothing about where it points, so it names only the chain.
   */
  private subjects(node: ts.Expression | undefined): Subjects {
    const syms = new Set<ts.Symbol>();
    const keys = new Set<string>();
    const visit = (child: ts.Node) => {
      if (ts.isPropertyAccessExpression(child) || ts.isElementAccessExpression(child)) {
        const chain = chainOf(child);
        if (chain) {
          keys.add(chain.join('.'));
          if (IDENTITY_PROPERTIES.has(chain.at(-1)!)) {
            const root = this.rootIdentifier(child);
            const symbol = root && this.symbolOf(root);
            if (symbol) syms.add(symbol);
          }
          if (ts.isElementAccessExpression(child)) visit(child.argumentExpression);
          return;
        }
      }
      if (ts.isIdentifier(child)) {
        if (!this.isRequestBase(child) && !this.isResponseBase(child)) {
          const symbol = this.symbolOf(child);
          if (symbol) syms.add(symbol);
        }
        return;
      }
      if (isFunctionLike(child)) return;
      child.forEachChild(visit);
    };
    if (node) visit(node);
    return { syms, keys };
  }

  private isNormalised(node: ts.Expression): boolean {
    const expression = strip(node);
    if (ts.isCallExpression(expression)) return NORMALISERS.test(lastName(calleeText(expression.expression)));
    if (ts.isIdentifier(expression)) {
      const init = this.initializerOf(expression);
      return init !== undefined && ts.isCallExpression(strip(init)) && this.isNormalised(init);
    }
    return false;
  }

  private collectGuards(unit: Unit): Guard[] {
    const guards: Guard[] = [];
    const add = (node: ts.Node, classes: number, subjects: Subjects, any = false) => {
      if (!any && subjects.syms.size === 0 && subjects.keys.size === 0) return;
      guards.push({ end: node.getStart(unit.sf), fn: enclosingFunction(node), ...subjects, classes, any });
    };
    const trivial = (node: ts.Expression) => {
      const e = strip(node);
      return (
        e.kind === ts.SyntaxKind.NullKeyword ||
        (ts.isIdentifier(e) && e.text === 'undefined') ||
        (ts.isStringLiteralLike(e) && e.text === '') ||
        ts.isTypeOfExpression(e) ||
        ts.isVoidExpression(e) ||
        (ts.isPropertyAccessExpression(e) && CLEAN_PROPERTIES.has(e.name.text))
      );
    };
    walk(unit.sf, (node) => {
      if (ts.isCallExpression(node)) {
        const callee = strip(node.expression);
        const name = calleeText(callee);
        const method = lastName(name);
        const [first, second] = node.arguments;
        if (ts.isPropertyAccessExpression(callee)) {
          const receiver = callee.expression;
          const text = literal(first);
          if (/^(includes|has|indexOf|contains)$/.test(method) && first) {
            if (text === undefined) add(node, ALL, this.subjects(first));
            else if (/\.\.|^[/\\]$|\0/.test(text)) add(node, BIT.path, this.subjects(receiver));
          }
          if (method === 'test' && first) add(node, ALL, this.subjects(first));
          if ((method === 'match' || method === 'matchAll') && first && ts.isRegularExpressionLiteral(first))
            add(node, ALL, this.subjects(receiver));
          if (method === 'startsWith' && first) {
            if (this.isNormalised(receiver)) add(node, BIT.path, this.subjects(receiver));
            if (text === '..' || text === `..${'/'}`) add(node, BIT.path, this.subjects(receiver));
            if (text && /^(\/[^/\\]|[a-z][a-z\d+.-]*:\/\/[^/]+\/)/i.test(text))
              add(node, BIT.redirect | BIT.ssrf, this.subjects(receiver));
            if (
              text === '/' &&
              /["'`]\/\/["'`]|\\\/\\\/|["'`]\/\\\\["'`]/.test(enclosingFunction(node).getText(unit.sf))
            )
              add(node, BIT.redirect, this.subjects(receiver));
          }
          if (method === 'endsWith' && text) add(node, BIT.ssrf | BIT.redirect, this.subjects(receiver));
          if (method === 'relative' && second) add(node, BIT.path, this.subjects(second));
          // res.type('text/plain'), res.set('Content-Type', 'application/json'): not rendered as HTML.
          if (/^(type|contentType)$/.test(method) && text && !/html/i.test(text))
            add(node, BIT.xss, this.subjects(undefined), true);
          if (/^(set|setHeader|header|append)$/.test(method) && /^content-type$/i.test(text ?? '')) {
            const value = literal(second);
            if (value && !/html/i.test(value)) add(node, BIT.xss, this.subjects(undefined), true);
          }
          if (/^(writeHead|set|header|setHeaders)$/.test(method)) {
            // writeHead(200, { 'content-type': 'application/json' }), also inside `cond ? a : { … }`
            for (const arg of node.arguments) {
              const options = ts.isIdentifier(arg) ? (this.initializerOf(arg) ?? arg) : arg;
              walk(options, (child) => {
                if (!ts.isObjectLiteralExpression(child)) return;
                for (const property of child.properties) {
                  if (!ts.isPropertyAssignment(property)) continue;
                  const key = propertyNameText(property.name);
                  const value = literal(property.initializer);
                  if (key && /^content-type$/i.test(key) && value && !/html/i.test(value))
                    add(node, BIT.xss, this.subjects(undefined), true);
                }
              });
            }
          }
        }
        if (VALIDATOR.test(method) && !TYPE_CHECK.test(method) && node.arguments.length > 0) {
          const subjects = node.arguments.map((arg) => this.subjects(arg));
          add(node, ALL, {
            syms: new Set(subjects.flatMap((s) => [...s.syms])),
            keys: new Set(subjects.flatMap((s) => [...s.keys])),
          });
        }
      }
      if (ts.isBinaryExpression(node)) {
        const op = node.operatorToken.kind;
        const equality =
          op === ts.SyntaxKind.EqualsEqualsEqualsToken ||
          op === ts.SyntaxKind.ExclamationEqualsEqualsToken ||
          op === ts.SyntaxKind.EqualsEqualsToken ||
          op === ts.SyntaxKind.ExclamationEqualsToken;
        if (equality && !trivial(node.left) && !trivial(node.right)) {
          const left = this.subjects(node.left);
          const right = this.subjects(node.right);
          add(node, ALL, {
            syms: new Set([...left.syms, ...right.syms]),
            keys: new Set([...left.keys, ...right.keys]),
          });
        }
        if (op === ts.SyntaxKind.InKeyword) add(node, ALL, this.subjects(node.left));
      }
      if (ts.isSwitchStatement(node)) add(node, ALL, this.subjects(node.expression));
    });
    return guards;
  }

  /** Tainted variables related to an expression: its own, those they were computed from, those computed from them. */
  private family(node: ts.Expression): Subjects {
    const direct = this.identifierSymbols(node).filter((symbol) => this.symTaint.has(symbol));
    const syms = new Set<ts.Symbol>(direct);
    for (const graph of [this.deps, this.rdeps]) {
      const queue = [...direct];
      while (queue.length && syms.size < 200) {
        const symbol = queue.shift()!;
        for (const next of graph.get(symbol) ?? []) {
          if (syms.has(next) || !this.symTaint.has(next)) continue;
          syms.add(next);
          queue.push(next);
        }
      }
    }
    return { syms, keys: this.subjects(node).keys };
  }

  private guardMask(node: ts.Expression, at: ts.Node, bound = at.end): number {
    const guards = this.guards.get(at.getSourceFile());
    if (!guards?.length) return 0;
    const family = this.family(node);
    const scopes = new Set<ts.Node>();
    for (let current: ts.Node | undefined = at; current; current = current.parent) {
      if (isFunctionLike(current) || ts.isSourceFile(current)) scopes.add(current);
    }
    let mask = 0;
    for (const guard of guards) {
      if (guard.end >= bound || !scopes.has(guard.fn)) continue;
      const related =
        guard.any ||
        [...guard.syms].some((symbol) => family.syms.has(symbol)) ||
        [...guard.keys].some((key) => family.keys.has(key));
      if (related) mask |= guard.classes;
    }
    return mask;
  }

  // ---- URL prefixes ----

  /**
   * The literal text a string starts with, up to its first tainted part (clean dynamic parts are `\uE000`):
   * `https://api.example.com/users/${id}` → `https://api.example.com/users/`.
   */
  leadingText(node: ts.Expression, depth = 0): string {
    const expression = strip(node);
    if (depth > 6) return '';
    if (ts.isStringLiteralLike(expression)) return expression.text;
    if (!this.taintOf(expression)) return '\uE000';
    if (ts.isTemplateExpression(expression)) {
      let text = expression.head.text;
      for (const span of expression.templateSpans) {
        if (this.taintOf(span.expression)) return text + this.leadingText(span.expression, depth + 1);
        text += this.constantText(span.expression) + span.literal.text;
      }
      return text;
    }
    if (ts.isBinaryExpression(expression) && expression.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      if (this.taintOf(expression.left)) return this.leadingText(expression.left, depth + 1);
      return this.constantText(expression.left) + this.leadingText(expression.right, depth + 1);
    }
    if (ts.isIdentifier(expression)) {
      const init = this.initializerOf(expression);
      return init ? this.leadingText(init, depth + 1) : '';
    }
    if (ts.isNewExpression(expression) && calleeText(expression.expression) === 'URL') {
      const [path, base] = expression.arguments ?? [];
      if (!path) return '';
      const lead = this.leadingText(path, depth + 1);
      // new URL('/users/' + id, BASE): a relative path keeps the base's origin.
      if (base && !this.taintOf(base) && /^\/[^/\\]/.test(lead)) return `\uE000${lead}`;
      return lead;
    }
    return '';
  }

  /** A clean expression's text when it is a constant string, else `\uE000`. */
  constantText(node: ts.Expression, depth = 0): string {
    const expression = strip(node);
    if (ts.isStringLiteralLike(expression) || ts.isNumericLiteral(expression)) return expression.text;
    if (depth < 4 && ts.isIdentifier(expression)) {
      const init = this.initializerOf(expression);
      if (init) return this.constantText(init, depth + 1);
    }
    if (depth < 4 && ts.isTemplateExpression(expression))
      return (
        expression.head.text +
        expression.templateSpans
          .map((span) => this.constantText(span.expression, depth + 1) + span.literal.text)
          .join('')
      );
    if (depth < 4 && ts.isBinaryExpression(expression) && expression.operatorToken.kind === ts.SyntaxKind.PlusToken)
      return this.constantText(expression.left, depth + 1) + this.constantText(expression.right, depth + 1);
    return '\uE000';
  }

  /** True when the tainted part cannot choose the scheme and host: it sits in the path, query or fragment. */
  originFixed(node: ts.Expression): boolean {
    const text = this.leadingText(node);
    return (
      /^[a-z][a-z\d+.-]*:\/\/[^/?#\uE000]+[/?#]/i.test(text) ||
      /^\/[^/\\\uE000]/.test(text) ||
      /^\uE000+\/[^/\\]/.test(text) ||
      /^[^\uE000]*[?#]/.test(text) ||
      /^\uE000[^/]*[?#]/.test(text)
    );
  }
}
