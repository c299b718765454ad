import ts from 'typescript';
import { calleeName, calls, expressionName, lastPart, stringValue, type CheckContext, type SourceUnit } from './ast';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'all';

/** An HTTP route registered in code: `router.post('/x', auth, handler)`, Fastify options, or a NestJS decorator. */
export interface Route {
  unit: SourceUnit;
  node: ts.Node;
  method: HttpMethod;
  path: string;
  /** Source text of everything between the path and the handler: middleware, options, guards. */
  guards: string;
  /** The handler's source text when it is written inline or declared in the same file; else its name. */
  handler: string;
  /** False when the handler lives in another file and `handler` is only its name. */
  handlerFound: boolean;
}

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'del', 'all']);
const MUTATING = new Set<HttpMethod>(['post', 'put', 'patch', 'delete', 'all']);
// Receivers that are HTTP clients, not servers: `axios.post('/x')`, `request(app).post('/x')`.
const CLIENTS =
  /^(axios|http|https|fetch|got|ky|superagent|request|client|api[A-Z]?\w*Client|this\.http|\$http|httpClient|agent)$/i;
const SERVER_FACTORIES =
  /^(express|express\.Router|Router|fastify|Fastify|Koa|KoaRouter|Hono|Elysia|restify\.createServer|polka)$/;

export const isMutating = (route: Route) => MUTATING.has(route.method);

/** Every route in the project. */
export function findRoutes(ctx: CheckContext): Route[] {
  return ctx.sources.flatMap((unit) => [...functionRoutes(unit), ...decoratorRoutes(unit)]);
}

function serverNames(unit: SourceUnit): Set<string> {
  const names = new Set(['app', 'router', 'server', 'api', 'fastify', 'routes', 'route', 'admin', 'instance']);
  const visit = (node: ts.Node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
      const init = node.initializer;
      const factory = ts.isCallExpression(init) || ts.isNewExpression(init) ? calleeName(init) : '';
      if (SERVER_FACTORIES.test(factory) || /Router$/.test(node.name.text)) names.add(node.name.text);
    }
    if (
      ts.isParameter(node) &&
      ts.isIdentifier(node.name) &&
      /^(app|router|fastify|server|instance)$/i.test(node.name.text)
    ) {
      names.add(node.name.text);
    }
    node.forEachChild(visit);
  };
  visit(unit.sf);
  return names;
}

function functionRoutes(unit: SourceUnit): Route[] {
  const servers = serverNames(unit);
  const routes: Route[] = [];
  for (const call of calls(unit)) {
    if (!ts.isPropertyAccessExpression(call.expression)) continue;
    const method = call.expression.name.text.toLowerCase();
    if (!METHODS.has(method)) continue;
    const receiver = call.expression.expression;
    let path = stringValue(call.arguments[0]);
    let rest = call.arguments.slice(1);
    // router.route('/x').post(handler)
    if (ts.isCallExpression(receiver) && lastPart(calleeName(receiver)) === 'route') {
      path = stringValue(receiver.arguments[0]);
      rest = [...call.arguments];
    } else {
      const name = expressionName(receiver);
      if (CLIENTS.test(name) || !servers.has(lastPart(name))) continue;
    }
    if (path === undefined || !path.startsWith('/') || rest.length === 0) continue;
    const found = handlerText(unit, rest[rest.length - 1]!);
    routes.push({
      unit,
      node: call,
      method: (method === 'del' ? 'delete' : method) as HttpMethod,
      path,
      guards: rest
        .slice(0, -1)
        .map((arg) => arg.getText(unit.sf))
        .join(' '),
      handler: found.text,
      handlerFound: found.found,
    });
  }
  return routes;
}

/** An inline handler's text, or the text of the same-file function it names. */
function handlerText(unit: SourceUnit, handler: ts.Expression): { text: string; found: boolean } {
  if (!ts.isIdentifier(handler) && !ts.isPropertyAccessExpression(handler))
    return { text: handler.getText(unit.sf), found: true };
  const name = lastPart(expressionName(handler));
  let text: string | undefined;
  const visit = (node: ts.Node) => {
    const named =
      ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name?.getText(unit.sf) === name) ||
      (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name) ||
      (ts.isPropertyAssignment(node) && node.name.getText(unit.sf) === name);
    if (named) text = node.getText(unit.sf);
    node.forEachChild(visit);
  };
  visit(unit.sf);
  return text === undefined ? { text: handler.getText(unit.sf), found: false } : { text, found: true };
}

const DECORATOR_METHODS: Record<string, HttpMethod> = {
  Get: 'get',
  Post: 'post',
  Put: 'put',
  Patch: 'patch',
  Delete: 'delete',
  All: 'all',
};

/** NestJS-style controllers: guards on the class apply to every method. */
function decoratorRoutes(unit: SourceUnit): Route[] {
  const routes: Route[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isClassDeclaration(node)) {
      const classDecorators = ts.getDecorators(node) ?? [];
      const controller = classDecorators.find((d) => decoratorName(d) === 'Controller');
      if (controller) {
        const base = stringValue(decoratorArgs(controller)[0]) ?? '';
        const classGuards = classDecorators
          .filter((d) => decoratorName(d) !== 'Controller')
          .map((d) => d.getText(unit.sf));
        for (const member of node.members) {
          if (!ts.isMethodDeclaration(member)) continue;
          const decorators = ts.getDecorators(member) ?? [];
          const verb = decorators.find((d) => DECORATOR_METHODS[decoratorName(d)]);
          if (!verb) continue;
          const sub = stringValue(decoratorArgs(verb)[0]) ?? '';
          routes.push({
            unit,
            node: member,
            method: DECORATOR_METHODS[decoratorName(verb)]!,
            path: `/${[base, sub].filter(Boolean).join('/')}`.replace(/\/+/g, '/'),
            guards: [...classGuards, ...decorators.filter((d) => d !== verb).map((d) => d.getText(unit.sf))].join(' '),
            handler: member.getText(unit.sf),
            handlerFound: true,
          });
        }
      }
    }
    node.forEachChild(visit);
  };
  visit(unit.sf);
  return routes;
}

function decoratorName(decorator: ts.Decorator): string {
  const expression = decorator.expression;
  return ts.isCallExpression(expression) ? lastPart(calleeName(expression)) : expressionName(expression);
}

const decoratorArgs = (decorator: ts.Decorator) =>
  ts.isCallExpression(decorator.expression) ? [...decorator.expression.arguments] : [];

/** Source text of every `x.use(...)` / `x.register(...)` / `x.addHook(...)` call: app-wide middleware. */
export function globalMiddleware(ctx: CheckContext): string[] {
  return ctx.sources.flatMap((unit) =>
    calls(unit)
      .filter((call) =>
        /^(use|register|addHook|useGlobalGuards|useGlobalInterceptors)$/.test(lastPart(calleeName(call))),
      )
      .map((call) => call.arguments.map((arg) => arg.getText(unit.sf)).join(' ')),
  );
}
