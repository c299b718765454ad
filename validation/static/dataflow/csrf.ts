import ts from 'typescript';
import type { RuleHit } from './hits';
import {
  calleeText,
  chainOf,
  isFunctionLike,
  lastName,
  literal,
  propertyOf,
  rootName,
  strip,
  walk,
  type Unit,
} from './program';
import type { TaintEngine } from './taint';

const SESSION_MODULES =
  /^(express-session|cookie-session|koa-session|koa-generic-session|@fastify\/session|@fastify\/secure-session|fastify-session|@fastify\/cookie|iron-session|client-sessions|connect-redis|connect-mongo|connect-pg-simple)$/;
const CSRF_MODULES =
  /^(csurf|csrf|csrf-csrf|csrf-sync|lusca|tiny-csrf|@fastify\/csrf-protection|@fastify\/csrf|koa-csrf|@koa\/csrf|next-csrf|edge-csrf|@edge-csrf\/\w+|csrf-token|csrf-tokens|express-csrf-double-submit-cookie|@dr\.pogodin\/csurf)$/;
const AUTH_COOKIE = /sess|token|auth|jwt|sid|remember|login|user/i;
const STATE_CHANGING = /^(post|put|patch|delete|del)$/;
// Checks that only a same-site page can pass: Origin/Referer/Sec-Fetch-Site, a custom header, a CSRF token.
const SAME_SITE_CHECK = /csrf|xsrf|x-requested-with|sec-fetch-site|^origin$|^referr?er$/i;
const CLIENT_ROOTS =
  /^(axios|got|request|superagent|needle|ky|http|https|fetch|client|api|httpClient|http\w*Client|\$http)$/;

interface ProjectFacts {
  sessions: boolean;
  protected: boolean;
}

/** Whether the project authenticates with cookies, and whether it defends against CSRF anywhere. */
export function csrfFacts(engine: TaintEngine, units: Unit[]): ProjectFacts {
  const facts: ProjectFacts = { sessions: false, protected: false };
  for (const unit of units) {
    const bindings = engine.bindings.get(unit.sf) ?? new Map<string, { module: string; imported: string }>();
    for (const { module } of bindings.values()) {
      if (SESSION_MODULES.test(module)) facts.sessions = true;
      if (CSRF_MODULES.test(module)) facts.protected = true;
    }
    walk(unit.sf, (node) => {
      if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) {
        const chain = chainOf(node);
        if (chain && /^(req|request|ctx)$/.test(chain[0]!) && /^(session|signedCookies)$/.test(chain[1] ?? ''))
          facts.sessions = true;
        if (
          chain &&
          /^(req|request)$/.test(chain[0]!) &&
          chain[1] === 'cookies' &&
          chain.length > 2 &&
          AUTH_COOKIE.test(chain[2]!)
        )
          facts.sessions = true;
        if (chain && /^(passport)$/.test(chain[0]!) && chain[1] === 'session') facts.sessions = true;
      }
      if (ts.isCallExpression(node)) {
        const name = calleeText(node.expression);
        const method = lastName(name);
        // fastify.register(require('@fastify/session')): modules required inline.
        const required = name === 'require' ? literal(node.arguments[0]) : undefined;
        if (required && SESSION_MODULES.test(required)) facts.sessions = true;
        if (required && CSRF_MODULES.test(required)) facts.protected = true;
        // res.cookie('session', …), ctx.cookies.set('token', …), reply.setCookie('sid', …)
        if (
          /^(cookie|setCookie|set)$/.test(method) &&
          /cookie|res|reply|response/i.test(name) &&
          AUTH_COOKIE.test(literal(node.arguments[0]) ?? '')
        )
          facts.sessions = true;
        if (/^(ctx\.cookies\.get|req\.cookies\.get)$/.test(name) && AUTH_COOKIE.test(literal(node.arguments[0]) ?? ''))
          facts.sessions = true;
        if (/^(session|cookieSession|expressSession)$/.test(name)) facts.sessions = true;
      }
      // SameSite=strict or lax on the cookie: browsers do not send it with cross-site POSTs.
      if (ts.isObjectLiteralExpression(node)) {
        const sameSite = propertyOf(node, 'sameSite') ?? propertyOf(node, 'samesite');
        const value =
          sameSite &&
          (literal(sameSite)?.toLowerCase() ?? (strip(sameSite).kind === ts.SyntaxKind.TrueKeyword ? 'strict' : ''));
        if (value === 'strict' || value === 'lax') facts.protected = true;
      }
      if ((ts.isStringLiteralLike(node) || ts.isIdentifier(node)) && SAME_SITE_CHECK.test(node.text)) {
        // An identifier named csrf…/xsrf… or a header name compared somewhere: the app checks the request's origin.
        if (/csrf|xsrf/i.test(node.text) || isCompared(node)) facts.protected = true;
      }
    });
  }
  return facts;
}

/** `req.headers.origin === …`, `ALLOWED.includes(req.get('origin'))`, `if (req.headers['x-requested-with'] !== …)`. */
function isCompared(node: ts.Node): boolean {
  for (
    let current = node.parent;
    current && !ts.isStatement(current) && !isFunctionLike(current);
    current = current.parent
  ) {
    if (ts.isBinaryExpression(current) && /^(===|!==|==|!=)$/.test(current.operatorToken.getText())) return true;
    if (
      ts.isCallExpression(current) &&
      /^(includes|has|startsWith|test|indexOf)$/.test(lastName(calleeText(current.expression)))
    )
      return true;
  }
  const statement = node.parent && ts.findAncestor(node, ts.isIfStatement);
  return statement !== undefined && statement.expression.getText().includes(node.getText());
}

/** A route registration for a state-changing method: `app.post('/x', handler)`, `router.route('/x').put(h)`, `fastify.route({ method: 'POST' })`. */
function stateChangingRoute(engine: TaintEngine, node: ts.CallExpression): string | undefined {
  if (!ts.isPropertyAccessExpression(node.expression)) return undefined;
  const name = calleeText(node.expression);
  const method = lastName(name);
  if (CLIENT_ROOTS.test(rootName(name)) || /^(res|response|reply|req|request|ctx)\b/.test(name)) return undefined;
  const handlerLike = (arg: ts.Expression) => {
    const value = strip(arg);
    const fn = isFunctionLike(value) ? value : ts.isIdentifier(value) ? engine.functionOf(value) : undefined;
    return fn !== undefined && fn.parameters.length >= 1;
  };
  if (STATE_CHANGING.test(method)) {
    const [path, ...rest] = node.arguments;
    const chained = /\.route\(\)$/.test(name.slice(0, -method.length - 1));
    if (chained && node.arguments.some(handlerLike)) return `${method.toUpperCase()} ${name}`;
    if (path && (ts.isStringLiteralLike(path) || ts.isRegularExpressionLiteral(path)) && rest.some(handlerLike))
      return `${method.toUpperCase()} ${literal(path) ?? path.getText()}`;
  }
  if (method === 'route' && node.arguments[0] && ts.isObjectLiteralExpression(strip(node.arguments[0]))) {
    const options = strip(node.arguments[0]) as ts.ObjectLiteralExpression;
    const verb = literal(propertyOf(options, 'method'));
    const url = literal(propertyOf(options, 'url') ?? propertyOf(options, 'path'));
    if (verb && STATE_CHANGING.test(verb.toLowerCase())) return `${verb.toUpperCase()} ${url ?? ''}`.trim();
  }
  return undefined;
}

/** CWE-352: a cookie-authenticated app whose state-changing routes no CSRF defence covers. */
export function findCsrf(engine: TaintEngine, unit: Unit, facts: ProjectFacts): RuleHit[] {
  if (!facts.sessions || facts.protected) return [];
  const hits: RuleHit[] = [];
  walk(unit.sf, (node) => {
    if (!ts.isCallExpression(node)) return;
    const route = stateChangingRoute(engine, node);
    if (route)
      hits.push({
        rule: 'csrf',
        node,
        message: `State-changing route without CSRF protection: ${route} runs with the session cookie the browser attaches to any site's request, and no CSRF token, SameSite=strict/lax cookie or Origin check is in place`,
      });
  });
  return hits;
}
