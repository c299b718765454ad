import ts from 'typescript';
import type { Capability, CoverageEvidence } from '../../contracts/requirements';
import {
  calleeName,
  expressionName,
  importsOf,
  initializerOf,
  lastPart,
  nodesOf,
  propertyName,
  stringValue,
  walk,
  type CheckContext,
  type SourceUnit,
} from '../compliance/ast';

// Capability detectors: where the generated project implements a control, found in its syntax (nothing
// runs). Each looks for the mechanism, not the word: authentication is a credential check that answers
// 401, not a file called auth.ts. Tests are never implementation evidence. Near misses each detector
// must not take for the real thing are in test/validation/coverage-detectors.test.ts.

export type FunctionLike =
  | ts.FunctionDeclaration
  | ts.FunctionExpression
  | ts.ArrowFunction
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration;

export interface Detector {
  capability: Capability;
  /** What the detector looks for, in a sentence: reported when it finds nothing. */
  looksFor: string;
  /** Whether a test's name or body speaks of the capability (with the implementing file imported). */
  testPattern: RegExp;
  detect(ctx: CheckContext): CoverageEvidence[];
}

/** Test files: under test/, tests/, __tests__/ or spec/, or named *.test.* / *.spec.*. */
export const isTestPath = (path: string) =>
  /(^|\/)(test|tests|__tests__|spec|specs)\//.test(path) || /\.(test|spec)\.[cm]?[jt]sx?$/.test(path);

/** The project's own code, tests left out. */
export const implementationUnits = (ctx: CheckContext) => ctx.sources.filter((unit) => !isTestPath(unit.file.path));

const isFunctionLike = (node: ts.Node): node is FunctionLike =>
  ts.isFunctionDeclaration(node) ||
  ts.isFunctionExpression(node) ||
  ts.isArrowFunction(node) ||
  ts.isMethodDeclaration(node) ||
  ts.isConstructorDeclaration(node) ||
  ts.isGetAccessorDeclaration(node) ||
  ts.isSetAccessorDeclaration(node);

/** The functions around a node, innermost first. */
export function enclosingFunctions(node: ts.Node): FunctionLike[] {
  const found: FunctionLike[] = [];
  for (let current = node.parent; current; current = current.parent) if (isFunctionLike(current)) found.push(current);
  return found;
}

/** A function's name: declared, or the variable, property or class member it is assigned to. */
export function functionName(fn: ts.Node): string | undefined {
  if ((ts.isFunctionDeclaration(fn) || ts.isMethodDeclaration(fn) || ts.isFunctionExpression(fn)) && fn.name)
    return fn.name.getText();
  if (ts.isConstructorDeclaration(fn)) return 'constructor';
  const parent = fn.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && (ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)))
    return propertyName(parent.name as ts.PropertyName);
  return undefined;
}

/** The class around a node, if any, and its name. */
function enclosingClass(node: ts.Node): ts.ClassLikeDeclaration | undefined {
  for (let current = node.parent; current; current = current.parent) if (ts.isClassLike(current)) return current;
  return undefined;
}

const lineOf = (unit: SourceUnit, node: ts.Node) =>
  unit.sf.getLineAndCharacterOfPosition(node.getStart(unit.sf)).line + 1;

const evidence = (unit: SourceUnit, node: ts.Node, detail: string): CoverageEvidence => ({
  path: unit.file.path,
  line: lineOf(unit, node),
  detail,
});

const callsIn = (node: ts.Node) => {
  const found: ts.CallExpression[] = [];
  walk(node, (child) => {
    if (ts.isCallExpression(child)) found.push(child);
  });
  return found;
};

const STATUS_NAMES: Record<number, RegExp> = {
  400: /^(BAD_REQUEST|BadRequest(Exception|Error)?|UNPROCESSABLE_ENTITY|UnprocessableEntity(Exception)?)$/,
  401: /^(UNAUTHORIZED|Unauthorized(Exception|Error)?|UnauthenticatedError)$/,
  403: /^(FORBIDDEN|Forbidden(Exception|Error)?)$/,
  429: /^(TOO_MANY_REQUESTS|TooManyRequests(Exception|Error)?|ThrottlerException)$/,
};

/**
 * Where a function answers with one of `codes`: the number given to a call, a constructor, a `status`
 * property or a `statusCode =` assignment (`send(res, 401)`, `res.status(401)`, `{ status: 401 }`), or a
 * named status (`HttpStatus.UNAUTHORIZED`, `new UnauthorizedException()`). Comparisons (`=== 401`, a
 * client reading a response) and `case 401:` are not answers.
 */
export function statusSites(unit: SourceUnit, codes: number[]): { node: ts.Node; code: number }[] {
  const sites: { node: ts.Node; code: number }[] = [];
  walk(unit.sf, (node) => {
    if (ts.isNumericLiteral(node) && codes.includes(Number(node.text)) && isAnswer(node))
      sites.push({ node, code: Number(node.text) });
    if (ts.isIdentifier(node)) {
      for (const code of codes) {
        if (!STATUS_NAMES[code]?.test(node.text)) continue;
        const parent: ts.Node = node.parent;
        const used =
          (ts.isPropertyAccessExpression(parent) && parent.name === node && isAnswer(parent)) ||
          (ts.isNewExpression(parent) && parent.expression === node);
        if (used) sites.push({ node, code });
      }
    }
  });
  return sites;
}

function isAnswer(node: ts.Node): boolean {
  let current = node;
  while (
    ts.isParenthesizedExpression(current.parent) ||
    (ts.isConditionalExpression(current.parent) && current.parent.condition !== current) ||
    ts.isAsExpression(current.parent)
  )
    current = current.parent;
  const parent = current.parent;
  if (!parent) return false;
  if (ts.isCallExpression(parent) || ts.isNewExpression(parent))
    return parent.arguments?.includes(current as ts.Expression) ?? false;
  if (ts.isPropertyAssignment(parent))
    return /^(status|statusCode|code|httpStatus)$/.test(propertyName(parent.name) ?? '');
  if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken)
    return parent.right === current && /(^|\.)(status|statusCode)$/.test(expressionName(parent.left));
  if (ts.isReturnStatement(parent)) return true;
  return false;
}

/** Text of a function without its comments, for name lookups inside it. */
const identifiersIn = (node: ts.Node): string[] => {
  const names: string[] = [];
  walk(node, (child) => {
    if (ts.isIdentifier(child)) names.push(child.text);
  });
  return names;
};

const stringsIn = (node: ts.Node): string[] => {
  const values: string[] = [];
  walk(node, (child) => {
    if (ts.isStringLiteral(child) || ts.isNoSubstitutionTemplateLiteral(child)) values.push(child.text);
  });
  return values;
};

/** Functions of the project (any file) whose body satisfies `test`, by name. */
function namedFunctions(ctx: CheckContext, test: (fn: FunctionLike) => boolean): Set<string> {
  const names = new Set<string>();
  for (const unit of implementationUnits(ctx)) {
    walk(unit.sf, (node) => {
      if (isFunctionLike(node) && node.body && test(node)) {
        const name = functionName(node);
        if (name) names.add(name);
      }
    });
  }
  return names;
}

// --- authentication -------------------------------------------------------------------------------

const CREDENTIAL_STRING = /^(authorization|proxy-authorization|x-api-key|api-key|x-auth-token|x-access-token|cookie)$/i;
const CREDENTIAL_PROPERTY = /^(authorization|cookies?|session|apiKey|bearerToken|accessToken)$/;
const AUTH_CALL =
  /^(authenticat\w*|verify(Token|Jwt|JWT|Session|ApiKey|Credentials?|Bearer)|jwtVerify|checkToken|validateToken|checkApiKey|verifyKey|requireAuth\w*|isAuthenticated|getPrincipal|principalOf|identify)$/i;

/** String literals a function reads by: `headers['x-api-key']`, `req.get('authorization')` (not ones it sends). */
function readKeys(fn: ts.Node): string[] {
  const keys: string[] = [];
  walk(fn, (node) => {
    if (ts.isElementAccessExpression(node)) {
      const key = stringValue(node.argumentExpression);
      if (key) keys.push(key);
    }
    if (ts.isCallExpression(node) && /^(get|header|getHeader|cookie)$/.test(lastPart(calleeName(node)))) {
      const key = stringValue(node.arguments[0]);
      if (key) keys.push(key);
    }
  });
  return keys;
}

/** Property reads (`req.headers.authorization`), not writes (`headers.authorization = …`). */
const isRead = (node: ts.PropertyAccessExpression) =>
  !(
    ts.isBinaryExpression(node.parent) &&
    node.parent.left === node &&
    node.parent.operatorToken.kind === ts.SyntaxKind.EqualsToken
  );

/** The function reads a credential from a request (Authorization header, API key, session cookie) or verifies a token. */
function readsCredential(fn: ts.Node, authFunctions: Set<string>): boolean {
  if (readKeys(fn).some((key) => CREDENTIAL_STRING.test(key))) return true;
  let found = false;
  walk(fn, (node) => {
    if (found) return;
    if (ts.isPropertyAccessExpression(node) && CREDENTIAL_PROPERTY.test(node.name.text) && isRead(node)) found = true;
    if (ts.isCallExpression(node)) {
      const name = lastPart(calleeName(node));
      if (name === 'verify' && /jwt/i.test(calleeName(node))) found = true;
      if (AUTH_CALL.test(name) || authFunctions.has(name)) found = true;
    }
  });
  return found;
}

export const authenticationDetector: Detector = {
  capability: 'authentication',
  looksFor:
    'a credential check (Authorization header, API key, session or token verification) that answers 401 when it fails',
  testPattern:
    /\b401\b|unauthori[sz]ed|unauthenticated|authenticat|\bauth\b|bearer|api[- ]?key|credential|\btokens?\b|log(ged)?[- ]?in|sign(ed)?[- ]?in/i,
  detect(ctx) {
    // Helpers that read a credential themselves (`authenticate(req)`) make their callers credential checks.
    const authFunctions = namedFunctions(ctx, (fn) => readsCredential(fn, new Set()));
    const found: CoverageEvidence[] = [];
    for (const unit of implementationUnits(ctx)) {
      for (const site of statusSites(unit, [401])) {
        const checking = enclosingFunctions(site.node)
          .slice(0, 3)
          .find((fn) => readsCredential(fn, authFunctions));
        if (checking)
          found.push(
            evidence(unit, site.node, `${functionName(checking) ?? 'a handler'} answers 401 without valid credentials`),
          );
      }
      // Library middleware: passport or express-jwt put in front of routes.
      for (const call of nodesOf(unit, ts.isCallExpression)) {
        const name = calleeName(call);
        if (name === 'passport.authenticate' || (/^(expressjwt|expressJwt|jwt)$/.test(name) && usesExpressJwt(unit)))
          found.push(evidence(unit, call, `${name} authenticates requests`));
      }
    }
    return found;
  },
};

const usesExpressJwt = (unit: SourceUnit) => importsOf(unit).includes('express-jwt');

// --- authorisation --------------------------------------------------------------------------------

const ROLE_NAME =
  /^(roles?|permissions?|scopes?|grants?|isAdmin|hasRole|hasPermission|hasScope|can[A-Z]\w*|checkPermission|isAllowed|authori[sz]e\w*|allowedRoles|requiredRole)$/;

export const authorizationDetector: Detector = {
  capability: 'authorization',
  looksFor: 'a role, permission or scope check that answers 403 when the caller may not act',
  testPattern: /\b403\b|forbidden|\broles?\b|permission|scope|authori[sz]|not allowed|admin/i,
  detect(ctx) {
    const found: CoverageEvidence[] = [];
    for (const unit of implementationUnits(ctx)) {
      for (const site of statusSites(unit, [403])) {
        const checking = enclosingFunctions(site.node)
          .slice(0, 3)
          .find((fn) => identifiersIn(fn).some((name) => ROLE_NAME.test(name)));
        if (checking)
          found.push(
            evidence(unit, site.node, `${functionName(checking) ?? 'a handler'} answers 403 by role or permission`),
          );
      }
    }
    return found;
  },
};

// --- audit logging --------------------------------------------------------------------------------

const AUDIT = /audit/i;
const WHO =
  /^(actor|actorId|user|userId|principal|principalId|subject|by|who|performedBy|changedBy|caller|clientId|apiKeyId|identity|username|account)$/;
const WHAT = /^(action|event|eventType|operation|op|method|type|activity|what|change|verb)$/;
const WHEN = /^(at|timestamp|time|when|date|createdAt|occurredAt|recordedAt|ts|loggedAt)$/;
const APPEND =
  /^(push|append|appendFile|appendFileSync|write|writeSync|insert|insertOne|add|create|log|info|emit|unshift|send|publish|set)$/;
const MUTATION_CALL = /^(create|update|remove|delete|insert|insertOne|save|upsert|destroy|patch|replace|set|put)$/;

function objectKeys(object: ts.ObjectLiteralExpression): string[] {
  return object.properties.flatMap((p) =>
    ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p) ? [propertyName(p.name) ?? ''] : [],
  );
}

const recordsWhoWhatWhen = (object: ts.ObjectLiteralExpression) => {
  const keys = objectKeys(object);
  return keys.some((k) => WHO.test(k)) && keys.some((k) => WHAT.test(k)) && keys.some((k) => WHEN.test(k));
};

/** The call, if any, that `node` is an argument of (through wrapping calls such as `JSON.stringify(...)`). */
function argumentOf(node: ts.Node): ts.CallExpression | undefined {
  for (let current = node; current.parent; current = current.parent) {
    const parent = current.parent;
    if (ts.isCallExpression(parent) && parent.arguments.includes(current as ts.Expression)) {
      if (/^(JSON\.stringify|Object\.freeze|String)$/.test(calleeName(parent))) continue;
      return parent;
    }
    if (!ts.isExpression(parent) || ts.isArrowFunction(parent) || ts.isFunctionExpression(parent)) return undefined;
  }
  return undefined;
}

/** Mutations happen here: a store write (`store.create`), or a branch on a state-changing HTTP method. */
function handlesMutations(fn: ts.Node): boolean {
  if (stringsIn(fn).some((value) => /^(POST|PUT|PATCH|DELETE)$/.test(value))) return true;
  return callsIn(fn).some((call) => {
    const name = calleeName(call);
    return MUTATION_CALL.test(lastPart(name)) && !AUDIT.test(name);
  });
}

export const auditLoggingDetector: Detector = {
  capability: 'audit-logging',
  looksFor: 'an append-only record of who did what and when (actor, action, time) written on every change',
  testPattern: /audit/i,
  detect(ctx) {
    const records: CoverageEvidence[] = [];
    const auditCalls: { unit: SourceUnit; call: ts.CallExpression }[] = [];
    for (const unit of implementationUnits(ctx)) {
      for (const object of nodesOf(unit, ts.isObjectLiteralExpression)) {
        const keys = objectKeys(object);
        const sink = argumentOf(object);
        const owner = [...enclosingFunctions(object), enclosingClass(object)].filter(Boolean) as ts.Node[];
        const inAuditCode = owner.some((node) => AUDIT.test(functionName(node) ?? classNameOf(node) ?? ''));
        // The record itself: who, what and when, appended by audit code or handed to an audit sink.
        if (recordsWhoWhatWhen(object)) {
          const appended =
            (sink && AUDIT.test(calleeName(sink))) ||
            (inAuditCode && owner.some((node) => callsIn(node).some((c) => APPEND.test(lastPart(calleeName(c))))));
          if (appended) records.push(evidence(unit, object, `audit record with ${keys.join(', ')}`));
        }
      }
      for (const call of nodesOf(unit, ts.isCallExpression)) {
        if (AUDIT.test(calleeName(call)) && !/^(console|logger)\b/.test(calleeName(call)))
          auditCalls.push({ unit, call });
      }
    }
    if (!records.length) return [];
    // …and written where state changes: an audit call in a function that mutates, or that records the method.
    const onMutation = auditCalls.filter(({ call }) =>
      enclosingFunctions(call)
        .slice(0, 3)
        .some((fn) => handlesMutations(fn) || /\.method\b/.test(call.getText())),
    );
    if (!onMutation.length) return [];
    return [
      ...records,
      ...onMutation.map(({ unit, call }) =>
        evidence(
          unit,
          call,
          `${calleeName(call)} on a change (${functionName(enclosingFunctions(call)[0]!) ?? 'handler'})`,
        ),
      ),
    ];
  },
};

function classNameOf(node: ts.Node): string | undefined {
  return ts.isClassLike(node) && node.name ? node.name.text : undefined;
}

// --- encryption at rest ---------------------------------------------------------------------------

const AEAD = /^(aes-(128|192|256)-(gcm|ccm|ocb)|chacha20-poly1305|id-aes(128|192|256)-gcm)$/i;
const PERSIST =
  /^(create|insert|insertOne|insertMany|save|set|put|putItem|update|updateOne|upsert|push|write|writeFile|writeFileSync|appendFile|appendFileSync)$/;
const STORAGE_CLASS = /store|repository|repo|dao|model|database|db|table|collection/i;

/** A call that writes a record somewhere: `rows.set(…)`, `repo.save(…)`, `writeFile(…)` (not `cipher.update(…)`). */
function persists(unit: SourceUnit, call: ts.CallExpression): boolean {
  if (!PERSIST.test(lastPart(calleeName(call)))) return false;
  if (!ts.isPropertyAccessExpression(call.expression)) return true;
  const receiver = call.expression.expression;
  const init = ts.isIdentifier(receiver) ? initializerOf(unit, receiver.text, call) : receiver;
  return !(init && /create(Cipher|Decipher|Hash|Hmac|Sign|Verify)\w*\(/.test(init.getText(unit.sf)));
}

function cipherAlgorithm(unit: SourceUnit, call: ts.CallExpression): string | undefined {
  const arg = call.arguments[0];
  if (!arg) return undefined;
  const literal = stringValue(arg);
  if (literal) return literal;
  if (ts.isIdentifier(arg)) return stringValue(initializerOf(unit, arg.text, arg));
  return undefined;
}

export const encryptionAtRestDetector: Detector = {
  capability: 'encryption-at-rest',
  looksFor:
    'authenticated encryption (createCipheriv with AES-GCM or ChaCha20-Poly1305) applied to values before they are stored',
  testPattern: /encrypt|decrypt|cipher|at rest|plaintext|ciphertext|sealed/i,
  detect(ctx) {
    const ciphers: { unit: SourceUnit; call: ts.CallExpression; fn?: string; algorithm: string }[] = [];
    for (const unit of implementationUnits(ctx)) {
      for (const call of nodesOf(unit, ts.isCallExpression)) {
        if (lastPart(calleeName(call)) !== 'createCipheriv') continue;
        const algorithm = cipherAlgorithm(unit, call);
        if (!algorithm || !AEAD.test(algorithm)) continue;
        const fn = enclosingFunctions(call)[0];
        ciphers.push({ unit, call, fn: fn && functionName(fn), algorithm });
      }
    }
    if (!ciphers.length) return [];
    const encrypting = new Set(ciphers.flatMap((c) => (c.fn ? [c.fn] : [])));
    // The encrypted value goes to storage: the encrypting function is called where records are written.
    const stored: CoverageEvidence[] = [];
    for (const unit of implementationUnits(ctx)) {
      for (const call of nodesOf(unit, ts.isCallExpression)) {
        const name = lastPart(calleeName(call));
        if (!encrypting.has(name) && name !== 'createCipheriv') continue;
        const writes = [...enclosingFunctions(call).slice(0, 2), enclosingClass(call)].some(
          (node) =>
            node &&
            ((ts.isClassLike(node) && STORAGE_CLASS.test(node.name?.text ?? '')) ||
              callsIn(node).some((c) => c !== call && persists(unit, c))),
        );
        if (writes) stored.push(evidence(unit, call, `${name}() before the value is stored`));
      }
    }
    if (!stored.length) return [];
    return [
      ...ciphers.map(({ unit, call, algorithm }) => evidence(unit, call, `createCipheriv('${algorithm}')`)),
      ...stored,
    ];
  },
};

// --- HMAC verification ----------------------------------------------------------------------------

const SIGNATURE_HEADER = /^(x-)?[a-z0-9-]*signature[a-z0-9-]*$/i;

export const hmacVerificationDetector: Detector = {
  capability: 'hmac-verification',
  looksFor:
    'an HMAC (createHmac) of the payload compared with timingSafeEqual against the signature the request carries',
  testPattern: /hmac|signature|signed|tamper|forged/i,
  detect(ctx) {
    const hmacFunctions = namedFunctions(ctx, (fn) =>
      callsIn(fn).some((call) => lastPart(calleeName(call)) === 'createHmac'),
    );
    const readsSignatureHeader = implementationUnits(ctx).some((unit) =>
      stringsIn(unit.sf).some((value) => SIGNATURE_HEADER.test(value)),
    );
    const found: CoverageEvidence[] = [];
    for (const unit of implementationUnits(ctx)) {
      for (const call of nodesOf(unit, ts.isCallExpression)) {
        if (lastPart(calleeName(call)) !== 'timingSafeEqual') continue;
        const fn = enclosingFunctions(call)[0];
        if (!fn) continue;
        const computesHmac = callsIn(fn).some((c) => {
          const name = lastPart(calleeName(c));
          return name === 'createHmac' || hmacFunctions.has(name);
        });
        const takesSignature =
          fn.parameters.some((p) => /sig(nature)?/i.test(p.name.getText())) ||
          stringsIn(fn).some((value) => SIGNATURE_HEADER.test(value));
        if (computesHmac && takesSignature && readsSignatureHeader)
          found.push(evidence(unit, call, `${functionName(fn) ?? 'a function'} compares HMACs with timingSafeEqual`));
      }
    }
    return found;
  },
};

// --- retries --------------------------------------------------------------------------------------

const DELAY_CALL = /^(setTimeout|sleep|delay|wait|backoff|pause|setTimeoutPromise)$/;
const ATTEMPTS = /attempt|retr(y|ies)|tries|maxTries/i;

const isLoop = (node: ts.Node) =>
  ts.isForStatement(node) || ts.isWhileStatement(node) || ts.isDoStatement(node) || ts.isForOfStatement(node);

/** A comparison that bounds the attempts: `attempt < maxAttempts`, `tries >= 3`. */
function boundsAttempts(node: ts.Node): boolean {
  let found = false;
  walk(node, (child) => {
    if (
      ts.isBinaryExpression(child) &&
      [
        ts.SyntaxKind.LessThanToken,
        ts.SyntaxKind.LessThanEqualsToken,
        ts.SyntaxKind.GreaterThanToken,
        ts.SyntaxKind.GreaterThanEqualsToken,
      ].includes(child.operatorToken.kind) &&
      ATTEMPTS.test(child.getText())
    )
      found = true;
  });
  return found;
}

const delays = (node: ts.Node) => callsIn(node).some((call) => DELAY_CALL.test(lastPart(calleeName(call))));

export const retriesDetector: Detector = {
  capability: 'retries',
  looksFor: 'a failing call retried a bounded number of times with a delay (backoff) between attempts',
  testPattern: /retr(y|ies|ied)|backoff|attempt|transient|flaky|again/i,
  detect(ctx) {
    const found: CoverageEvidence[] = [];
    for (const unit of implementationUnits(ctx)) {
      for (const clause of nodesOf(unit, ts.isCatchClause)) {
        const tryStatement = clause.parent as ts.TryStatement;
        const fn = enclosingFunctions(clause)[0];
        let loop: ts.Node | undefined;
        for (
          let current: ts.Node | undefined = tryStatement.parent;
          current && current !== fn;
          current = current.parent
        )
          if (isLoop(current)) loop = current;
        // A loop around the try that bounds the attempts and waits between them…
        if (loop && (boundsAttempts(loop) || boundsAttempts(clause)) && delays(loop)) {
          found.push(evidence(unit, clause, 'bounded retry loop with a delay between attempts'));
          continue;
        }
        // …or a catch that schedules the next attempt later (setTimeout / sleep) while attempts remain.
        if (boundsAttempts(clause) && delays(clause))
          found.push(evidence(unit, clause, 'failed attempt rescheduled with a delay while attempts remain'));
      }
      // Promise-style: `.catch(() => retry(...))` is covered by the catch-clause forms only when written out.
    }
    return found;
  },
};

// --- rate limiting --------------------------------------------------------------------------------

const RATE_LIMIT_PACKAGES =
  /^(express-rate-limit|rate-limiter-flexible|@fastify\/rate-limit|express-slow-down|@nestjs\/throttler|koa-ratelimit|hono-rate-limiter)$/;
const CLOCK = /^(Date\.now|performance\.now|process\.hrtime\.bigint|process\.hrtime)$/;

export const rateLimitingDetector: Detector = {
  capability: 'rate-limiting',
  looksFor: 'a per-client counter over a time window that answers 429 when the client exceeds it',
  testPattern: /\b429\b|rate|limit|throttl|too many/i,
  detect(ctx) {
    const found: CoverageEvidence[] = [];
    for (const unit of implementationUnits(ctx)) {
      if (importsOf(unit).some((spec) => RATE_LIMIT_PACKAGES.test(spec))) {
        const use = nodesOf(unit, ts.isCallExpression).find((call) =>
          /^(rateLimit|RateLimiterMemory|slowDown|rateLimiter)$/.test(lastPart(calleeName(call))),
        );
        if (use) found.push(evidence(unit, use, `${calleeName(use)}() from a rate-limiting package`));
      }
      for (const site of statusSites(unit, [429])) {
        const scope = [...enclosingFunctions(site.node).slice(0, 3), enclosingClass(site.node)].filter(
          Boolean,
        ) as ts.Node[];
        const counts = scope.some((node) =>
          callsIn(node).some((call) => /^(get|set|increment|incr|has)$/.test(lastPart(calleeName(call)))),
        );
        const clock = scope.some(
          (node) =>
            callsIn(node).some((call) => CLOCK.test(calleeName(call))) ||
            identifiersIn(node).some((name) => /window/i.test(name)),
        );
        if (counts && clock) found.push(evidence(unit, site.node, 'answers 429 once a client exceeds its window'));
      }
    }
    return found;
  },
};

// --- input validation -----------------------------------------------------------------------------

const VALIDATOR = /^(parse\w+|validate\w*|safeParse|check\w+|assertValid\w*|is[A-Z]\w*Valid)$/;
const NOT_VALIDATOR = /^(parseInt|parseFloat|parseArgs|parseJson|parseUrl)$/;

export const inputValidationDetector: Detector = {
  capability: 'input-validation',
  looksFor: 'input checked by a validator (parse*/validate*/schema) and refused (400/422 or an error) when invalid',
  testPattern: /valid|invalid|\b400\b|\b422\b|refus|reject|missing|unknown field|malformed|required/i,
  detect(ctx) {
    const found: CoverageEvidence[] = [];
    for (const unit of implementationUnits(ctx)) {
      const answers = statusSites(unit, [400, 422]);
      const throws = nodesOf(unit, ts.isThrowStatement);
      walk(unit.sf, (node) => {
        if (!isFunctionLike(node) || !node.body) return;
        const validators = callsIn(node).filter((call) => {
          const name = calleeName(call);
          return (
            VALIDATOR.test(lastPart(name)) && !NOT_VALIDATOR.test(lastPart(name)) && !/^(JSON|Date|URL)\./.test(name)
          );
        });
        if (validators.length) {
          const refusal =
            answers.find((site) => enclosingFunctions(site.node)[0] === node)?.node ??
            throws.find((t) => enclosingFunctions(t)[0] === node) ??
            refusingBranch(node);
          if (refusal)
            found.push(
              evidence(
                unit,
                refusal,
                `${functionName(node) ?? 'a function'} refuses what ${calleeName(validators[0]!)}() rejects`,
              ),
            );
        }
        // The validator itself: `parseX(input)` answering `{ ok: false, errors }` for bad input.
        const name = functionName(node) ?? '';
        const rejection = /^(parse|validate)[A-Z]\w*$/.test(name) ? rejectingResult(node) : undefined;
        if (rejection) found.push(evidence(unit, rejection, `${name} answers invalid input with its errors`));
      });
    }
    return found;
  },
};

/** `if (!input.ok) return …` / `if (!parsed.success) throw …`: the branch that refuses a failed validation. */
function refusingBranch(fn: ts.Node): ts.Node | undefined {
  let found: ts.Node | undefined;
  walk(fn, (node) => {
    if (found || !ts.isIfStatement(node) || enclosingFunctions(node)[0] !== fn) return;
    if (!/!\s*[\w.]+\.(ok|success|valid|isValid)\b|\.errors?\b(\.length)?/.test(node.expression.getText())) return;
    let refuses = false;
    walk(node.thenStatement, (child) => {
      if (ts.isReturnStatement(child) || ts.isThrowStatement(child)) refuses = true;
    });
    if (refuses) found = node;
  });
  return found;
}

/** A `return { ok: false, … }` / `{ valid: false }` / `{ success: false }` of a validator. */
function rejectingResult(fn: ts.Node): ts.Node | undefined {
  let found: ts.Node | undefined;
  walk(fn, (node) => {
    if (found || !ts.isReturnStatement(node) || !node.expression || enclosingFunctions(node)[0] !== fn) return;
    let expression: ts.Expression = node.expression;
    while (ts.isParenthesizedExpression(expression) || ts.isConditionalExpression(expression))
      expression = ts.isParenthesizedExpression(expression) ? expression.expression : expression.whenFalse;
    const objects = ts.isObjectLiteralExpression(expression) ? [expression] : [];
    if (ts.isConditionalExpression(node.expression)) {
      for (const branch of [node.expression.whenTrue, node.expression.whenFalse])
        if (ts.isObjectLiteralExpression(branch)) objects.push(branch);
    }
    for (const object of objects) {
      const rejects = object.properties.some(
        (p) =>
          ts.isPropertyAssignment(p) &&
          /^(ok|valid|success)$/.test(propertyName(p.name) ?? '') &&
          p.initializer.kind === ts.SyntaxKind.FalseKeyword,
      );
      if (rejects) found = object;
    }
  });
  return found;
}

// --- TLS ------------------------------------------------------------------------------------------

const TLS_MODULES = /^(node:)?(https|tls|http2)$/;

export const tlsDetector: Detector = {
  capability: 'tls',
  looksFor:
    'a TLS server (https/tls/http2 createSecureServer with key and certificate), HSTS, or refusing requests that did not arrive over TLS',
  testPattern: /tls|https|hsts|strict-transport|secure|transport|certificate|plain http/i,
  detect(ctx) {
    const found: CoverageEvidence[] = [];
    for (const unit of implementationUnits(ctx)) {
      const tlsImported = importsOf(unit).some((spec) => TLS_MODULES.test(spec));
      for (const call of nodesOf(unit, ts.isCallExpression)) {
        const name = calleeName(call);
        const server =
          /^(https|tls)\.createServer$|(^|\.)createSecureServer$/.test(name) ||
          (name === 'createServer' && tlsImported);
        if (server && hasKeyAndCert(call)) found.push(evidence(unit, call, `${name}() with a key and certificate`));
      }
      for (const literal of nodesOf(unit, ts.isStringLiteral)) {
        if (/^strict-transport-security$/i.test(literal.text) && argumentOf(literal))
          found.push(evidence(unit, literal, 'sets Strict-Transport-Security'));
        if (/^x-forwarded-proto$/i.test(literal.text)) {
          const fn = enclosingFunctions(literal)[0];
          const refuses = statusSites(unit, [301, 308, 403, 421, 426]).some(
            (s) => enclosingFunctions(s.node)[0] === fn,
          );
          if (fn && stringsIn(fn).includes('https') && refuses)
            found.push(evidence(unit, literal, 'refuses or redirects requests that did not arrive over TLS'));
        }
      }
    }
    return found;
  },
};

function hasKeyAndCert(call: ts.CallExpression): boolean {
  const options = call.arguments.find(ts.isObjectLiteralExpression);
  if (!options) return false;
  const keys = objectKeys(options);
  return (keys.includes('key') && keys.includes('cert')) || keys.includes('pfx') || keys.includes('SNICallback');
}

/** Every capability's detector. */
export const DETECTORS: Readonly<Record<Capability, Detector>> = {
  authentication: authenticationDetector,
  authorization: authorizationDetector,
  'audit-logging': auditLoggingDetector,
  'encryption-at-rest': encryptionAtRestDetector,
  'hmac-verification': hmacVerificationDetector,
  retries: retriesDetector,
  'rate-limiting': rateLimitingDetector,
  'input-validation': inputValidationDetector,
  tls: tlsDetector,
};

/** Runs one capability's detector; evidence sorted by place, one entry per line. */
export function detectCapability(ctx: CheckContext, capability: Capability): CoverageEvidence[] {
  const seen = new Set<string>();
  return DETECTORS[capability]
    .detect(ctx)
    .filter((item) => {
      const key = `${item.path}:${item.line}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.path.localeCompare(b.path) || a.line - b.line);
}

// --- where controls apply -------------------------------------------------------------------------

const SERVER_PACKAGES = /^(express|fastify|koa|@koa\/router|hono|@nestjs\/\w+|restify|polka|@hapi\/hapi)$/;
const DATABASE_PACKAGES =
  /^(pg|mysql2?|mongodb|mongoose|@prisma\/client|sqlite3|better-sqlite3|typeorm|sequelize|knex|redis|ioredis|@aws-sdk\/client-dynamodb)$/;
const RECORD_CLASS = /store|repository|repo|dao|database|db|table|collection|ledger/i;

/** The project answers network requests: an HTTP/TLS server, a listening socket, or a web framework. */
export function servesRequests(ctx: CheckContext): boolean {
  return implementationUnits(ctx).some(
    (unit) =>
      importsOf(unit).some((spec) => SERVER_PACKAGES.test(spec)) ||
      nodesOf(unit, ts.isCallExpression).some((call) =>
        /^(createServer|createSecureServer|listen)$/.test(lastPart(calleeName(call))),
      ),
  );
}

/** The project keeps records: a store or repository, a database client, or files it writes. */
export function keepsRecords(ctx: CheckContext): boolean {
  return implementationUnits(ctx).some(
    (unit) =>
      importsOf(unit).some((spec) => DATABASE_PACKAGES.test(spec)) ||
      nodesOf(unit, ts.isClassDeclaration).some((c) => RECORD_CLASS.test(c.name?.text ?? '')) ||
      nodesOf(unit, ts.isCallExpression).some((call) =>
        /^(writeFile|writeFileSync|appendFile|appendFileSync|createWriteStream)$/.test(lastPart(calleeName(call))),
      ),
  );
}
