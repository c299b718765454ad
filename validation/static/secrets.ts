import ts from 'typescript';
import type { Finding, Severity } from '../../contracts/validation';
import { finding } from '../findings';
import {
  isCodeFile,
  MAX_SCANNED_LINE,
  matchPieces,
  positionAt,
  scannableFiles,
  type Project,
  type ProjectFile,
} from '../project';
import { scriptKind } from './dataflow/program';
import { entropy, maskSecret } from '../redact';
import { runSecretlint } from './secretlint-runner';

// The last word of a name that holds a credential: `dbPassword`, `JWT_SECRET`, `stripeApiKey`, `accessToken`.
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'credential',
  'credentials',
]);
// `key` alone is too common (`cacheKey`); it counts only after one of these.
const KEY_QUALIFIERS = new Set([
  'api',
  'access',
  'private',
  'secret',
  'signing',
  'encryption',
  'auth',
  'client',
  'master',
  'license',
]);
const PLACEHOLDER =
  /^(x+|\*+|\.+|-+|changeme|change[-_]?me|example|dummy|sample|test|testing|password|secret|token|todo|tbd|placeholder|none|null|undefined|redacted|empty|string|value|foo|bar|admin)$|your[-_ ]|<[^>]*>|\$\{|\{\{|example|placeholder|xxxx|\*\*\*|replace[-_ ]?me|process\.env/i;

// Linear time: a name starts only where no word character precedes it, has at most five hyphenated parts of
// at most 64 characters, unquoted values stop at `=`/`:` (so `a=a=a…` costs O(1) per position; base64 padding
// is allowed at the end), and the values are matched atomically (`(?=(…))\2`), so no position is retried against a long run.
const ASSIGNMENT =
  /(?<![\w$])((?:[A-Za-z_$][\w$]{0,63}-){0,4}[A-Za-z_$][\w$]{0,63})["']?[ \t]*(?::|=|:=|=>)[ \t]*(?:["'`](?=([^"'`\r\n]{4,256}))\2["'`]|(?=([^\s"'`#;,=:]{6,256}={0,2}))\3(?=[ \t]*(?:$|#)))/gm;
const PRIVATE_KEY = /-----BEGIN ((RSA|EC|DSA|OPENSSH|PGP|ENCRYPTED) )?PRIVATE KEY( BLOCK)?-----/g;
const STRING_LITERAL = /["'`]([A-Za-z0-9+/=_-]{32,200})["'`]/g;

function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** True when a name says it holds a credential (its last word is one). */
export function isSecretName(name: string): boolean {
  const words = nameWords(name);
  const last = words.at(-1);
  if (!last) return false;
  if (SECRET_WORDS.has(last)) return true;
  return last === 'key' && words.length > 1 && KEY_QUALIFIERS.has(words.at(-2)!);
}

// In code, a password-named literal is a credential even when it is a dictionary word ('admin', 'root'):
// only explicit placeholders are exempt (and the field's own name: `password: 'password'`).
const EXPLICIT_PLACEHOLDER =
  /^(x+|\*+|\.+|-+|changeme|change[-_]?me|dummy|sample|test|testing|todo|tbd|none|null|undefined|redacted|empty|string|number|boolean|text|hidden|required|optional)$|your[-_ ]|<[^>]*>|\$\{|\{\{|example|placeholder|xxxx|\*\*\*|replace[-_ ]?me|process\.env/i;

/**
 * True when a value could be a real credential rather than a placeholder, reference or prose.
 * `code`: the value sits in source code (not a .env example), where `password: 'root'` is a credential.
 */
export function looksLikeCredential(name: string, value: string, options: { code?: boolean } = {}): boolean {
  const last = nameWords(name).at(-1) ?? '';
  if (options.code && /pass|pwd/i.test(last)) {
    return (
      !EXPLICIT_PLACEHOLDER.test(value) &&
      !/\s/.test(value) &&
      value.length >= 4 &&
      new Set(value).size >= 3 &&
      value.toLowerCase() !== last &&
      !/^(https?:\/\/|\/|\.\/)/.test(value)
    );
  }
  if (PLACEHOLDER.test(value) || /\s/.test(value) || new Set(value).size < 4) return false;
  if (/^(https?:\/\/|\/|\.\/)/.test(value) && !/:\/\/[^/\s:@]+:[^/\s@]+@/.test(value)) return false;
  const isPassword = /pass|pwd/i.test(nameWords(name).at(-1) ?? '');
  // Passwords can be low-entropy words; tokens and keys are random, so demand length and entropy.
  return isPassword ? value.length >= 6 : value.length >= 12 && entropy(value) >= 3;
}

function lineFinding(
  file: ProjectFile,
  offset: number,
  ruleId: string,
  severity: Severity,
  message: string,
  extra: Partial<Pick<Finding, 'cwe' | 'remediation'>> = {},
): Finding {
  const { line, column } = positionAt(file.content, offset);
  return finding({
    ruleId,
    tool: 'secrets',
    category: 'security',
    severity,
    message,
    location: { path: file.path, line, column },
    cwe: ['CWE-798'],
    remediation: 'Remove the value from the code, rotate it, and read it from the environment or a secret manager.',
    ...extra,
  });
}

// ---- credentials in code positions the assignment pattern does not see ---------------------------

// Values a comparison with a secret-named value cannot mean as a credential.
const TRIVIAL_COMPARED =
  /^(|undefined|null|true|false|string|object|number|function|bearer|basic|digest|token|jwt|apikey|hmac|none|\*)$/i;
// Dictionary and placeholder signing secrets: what tutorials and generators put in.
const WEAK_KEY_WORDS =
  /secret|change|your|example|default|dummy|test|sample|placeholder|replace|insecure|keyboard|password|passw0rd|qwerty|12345|letmein|admin|private|mykey|jwt|token|signing|local|dev\b|development|todo|fixme|xxx/i;
const CONNECTION_URI = /^[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:([^\s@/]+)@[^\s]+$/i;

interface KeyValue {
  value: string;
  /** Set when the literal is a fallback (`process.env.X || '…'`). */
  fallback: boolean;
  /** The variable or expression that named it, for the message. */
  via?: string;
}

/** The literal a signing key resolves to: a literal, a constant, a fallback, Buffer.from / TextEncoder of one. */
function keyLiteral(sf: ts.SourceFile, node: ts.Expression | undefined, depth = 0): KeyValue | undefined {
  if (!node || depth > 5) return undefined;
  let expression = node;
  while (
    ts.isParenthesizedExpression(expression) ||
    ts.isAsExpression(expression) ||
    ts.isNonNullExpression(expression) ||
    ts.isSatisfiesExpression(expression)
  )
    expression = expression.expression;
  if (ts.isStringLiteralLike(expression)) return { value: expression.text, fallback: false };
  if (ts.isBinaryExpression(expression)) {
    const op = expression.operatorToken.kind;
    if (op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken) {
      const left = keyLiteral(sf, expression.left, depth + 1);
      if (left) return left;
      const right = keyLiteral(sf, expression.right, depth + 1);
      return right && { ...right, fallback: true };
    }
    return undefined;
  }
  if (ts.isConditionalExpression(expression)) {
    const branch = keyLiteral(sf, expression.whenFalse, depth + 1) ?? keyLiteral(sf, expression.whenTrue, depth + 1);
    return branch && { ...branch, fallback: true };
  }
  if (ts.isCallExpression(expression) || ts.isNewExpression(expression)) {
    const callee = expression.expression.getText(sf);
    if (/(^|\.)(from|encode|createSecretKey)$/.test(callee) && expression.arguments?.[0])
      return keyLiteral(sf, expression.arguments[0], depth + 1);
    return undefined;
  }
  if (ts.isIdentifier(expression)) {
    const init = declarationOf(sf, expression.text, (d) => d.initializer !== undefined)?.initializer;
    const resolved = keyLiteral(sf, init, depth + 1);
    return resolved && { ...resolved, via: resolved.via ?? expression.text };
  }
  if (ts.isPropertyAccessExpression(expression) && ts.isIdentifier(expression.expression)) {
    // const config = { jwtSecret: 'secret' }; jwt.sign(p, config.jwtSecret)
    const init = declarationOf(sf, expression.expression.text, (d) => d.initializer !== undefined)?.initializer;
    if (init && ts.isObjectLiteralExpression(init)) {
      for (const property of init.properties) {
        if (ts.isPropertyAssignment(property) && property.name.getText(sf) === expression.name.text) {
          const resolved = keyLiteral(sf, property.initializer, depth + 1);
          return resolved && { ...resolved, via: expression.getText(sf) };
        }
      }
    }
  }
  return undefined;
}

function declarationOf(
  sf: ts.SourceFile,
  name: string,
  accept: (declaration: ts.VariableDeclaration) => boolean,
): ts.VariableDeclaration | undefined {
  let found: ts.VariableDeclaration | undefined;
  const visit = (node: ts.Node) => {
    if (found) return;
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name && accept(node)) {
      found = node;
      return;
    }
    node.forEachChild(visit);
  };
  visit(sf);
  return found;
}

/** The last name in `req.body.pass`, `req.headers['x-api-key']`, `password`. */
function lastNameOf(node: ts.Expression): string | undefined {
  let expression = node;
  while (
    ts.isParenthesizedExpression(expression) ||
    ts.isAsExpression(expression) ||
    ts.isNonNullExpression(expression)
  )
    expression = expression.expression;
  if (ts.isIdentifier(expression)) return expression.text;
  if (ts.isPropertyAccessExpression(expression)) return expression.name.text;
  if (ts.isElementAccessExpression(expression) && ts.isStringLiteralLike(expression.argumentExpression))
    return expression.argumentExpression.text;
  // req.get('x-api-key'), req.header('authorization')
  if (
    ts.isCallExpression(expression) &&
    /\.(get|header)$/.test(expression.expression.getText()) &&
    expression.arguments[0] &&
    ts.isStringLiteralLike(expression.arguments[0])
  )
    return expression.arguments[0].text;
  return undefined;
}

/** `if (secret === 'changeme') throw …`: a check that rejects a placeholder, not a credential. */
function rejectsPlaceholder(node: ts.Node): boolean {
  for (let current = node.parent; current; current = current.parent) {
    if (ts.isIfStatement(current)) {
      const then = current.thenStatement;
      const text = then.getText();
      return /^\{?\s*(throw\b|process\.exit|console\.(warn|error)|logger\.(warn|error))/.test(text);
    }
    if (ts.isBlock(current) || ts.isSourceFile(current)) return false;
  }
  return false;
}

/** `JWT_SECRET`, `sessionSecret`, `secret`, `signingKey`, `secretOrKey`: names that hold a signing secret. */
function isSigningKeyName(name: string): boolean {
  const words = nameWords(name);
  const last = words.at(-1);
  const previous = words.at(-2);
  if (last === 'secret')
    return !previous || /^(jwt|token|session|cookie|signing|hmac|auth|access|refresh|app|webhook)$/.test(previous);
  return last === 'key' && previous !== undefined && /^(jwt|signing|hmac|session|cookie|token|or)$/.test(previous);
}

const SIGNING_CALLS = /(^|\.)(sign|verify|jwtVerify|createHmac|cookieParser|createSecretKey)$/;
const KEY_PROPERTIES =
  /^(secret|secretOrKey|secretOrPrivateKey|secretOrPublicKey|jwtSecret|signingKey|sessionSecret|cookieSecret|keys)$/;

/** Secrets in comparisons, basic-auth tables, auth headers and connection URIs; weak signing keys. */
export function detectCodeSecrets(file: ProjectFile): { finding: Finding; start: number; end: number }[] {
  if (!isCodeFile(file.path)) return [];
  const sf = ts.createSourceFile(file.path, file.content, ts.ScriptTarget.Latest, true, scriptKind(file.path));
  const hits: { finding: Finding; start: number; end: number }[] = [];
  // Each finding with the span of the code it is about, so other detectors do not report it again.
  let current: ts.Node = sf;
  const findings = {
    push: (item: Finding) => hits.push({ finding: item, start: current.getStart(sf), end: current.end }),
  };
  const at = (node: ts.Node) => {
    current = node;
    return node.getStart(sf);
  };
  const credential = (node: ts.Node, message: string) =>
    findings.push(lineFinding(file, at(node), 'secrets/hardcoded-credential', 'high', message));
  const weakKey = (node: ts.Node, use: string, key: KeyValue) => {
    // An empty key makes the library throw at start: it fails closed.
    if (key.value.length === 0) return;
    const placeholder = WEAK_KEY_WORDS.test(key.value) || PLACEHOLDER.test(key.value) || new Set(key.value).size < 6;
    const short = key.value.length < 32;
    if (!placeholder && !short && !key.fallback) {
      findings.push(
        lineFinding(
          file,
          at(node),
          'secrets/hardcoded-credential',
          'high',
          `Signing key for ${use} is hard-coded (${maskSecret(key.value)})`,
        ),
      );
      return;
    }
    const why = [
      key.fallback && 'falls back to a hard-coded value',
      short && `${key.value.length} chars (fewer than 32)`,
      placeholder && 'a dictionary or placeholder secret',
    ]
      .filter(Boolean)
      .join(', ');
    findings.push(
      lineFinding(
        file,
        at(node),
        'secrets/weak-signing-key',
        'high',
        `Weak signing key for ${use}${key.via ? ` (${key.via})` : ''}: ${why} (${maskSecret(key.value)})`,
        {
          cwe: ['CWE-321', 'CWE-326', 'CWE-798'],
          remediation:
            'Load a random key of at least 32 bytes (e.g. crypto.randomBytes(32)) from a secret manager or the environment, fail at start when it is missing, and rotate the exposed one.',
        },
      ),
    );
  };
  const visit = (node: ts.Node) => {
    // req.body.pass === "hunter2", apiKey !== 'abc123', switch (password) { case 'x': }
    if (ts.isBinaryExpression(node) && /^(===|==|!==|!=)$/.test(node.operatorToken.getText(sf))) {
      const pairs: [ts.Expression, ts.Expression][] = [
        [node.left, node.right],
        [node.right, node.left],
      ];
      for (const [value, other] of pairs) {
        if (!ts.isStringLiteralLike(value) || ts.isTypeOfExpression(other)) continue;
        const name = lastNameOf(other);
        const text = value.text;
        if (!name || !isSecretName(name) || TRIVIAL_COMPARED.test(text) || /\s{2,}/.test(text)) continue;
        const fromInput = /\b(req|request|ctx|event|body|query|params|headers)\b/.test(other.getText(sf));
        if (
          !fromInput &&
          (/process\.env|\benv\b|config|settings|options/i.test(other.getText(sf)) || PLACEHOLDER.test(text))
        )
          continue;
        if (rejectsPlaceholder(node)) continue;
        credential(
          value,
          `Hardcoded credential compared with \`${other.getText(sf).slice(0, 60)}\` (${maskSecret(text)})`,
        );
      }
    }
    if (ts.isSwitchStatement(node)) {
      const name = lastNameOf(node.expression);
      if (name && isSecretName(name)) {
        for (const clause of node.caseBlock.clauses) {
          if (
            ts.isCaseClause(clause) &&
            ts.isStringLiteralLike(clause.expression) &&
            !TRIVIAL_COMPARED.test(clause.expression.text)
          )
            credential(
              clause.expression,
              `Hardcoded credential in a case of \`${node.expression.getText(sf).slice(0, 60)}\` (${maskSecret(clause.expression.text)})`,
            );
        }
      }
    }
    // basicAuth({ users: { admin: 'supersecret' } })
    if (ts.isPropertyAssignment(node) && /^(users|credentials|challengeUsers)$/.test(node.name.getText(sf))) {
      const users = node.initializer;
      if (ts.isObjectLiteralExpression(users)) {
        for (const entry of users.properties) {
          if (
            ts.isPropertyAssignment(entry) &&
            ts.isStringLiteralLike(entry.initializer) &&
            entry.initializer.text.length >= 4
          )
            credential(
              entry.initializer,
              `Hardcoded password for user \`${entry.name.getText(sf)}\` (${maskSecret(entry.initializer.text)})`,
            );
        }
      }
    }
    if (ts.isStringLiteralLike(node)) {
      const text = node.text;
      // 'Basic dXNlcjpwYXNz', 'Bearer eyJ…' in code; user:pass@ in connection strings.
      const basic = /^Basic ([A-Za-z0-9+/=]{8,})$/.exec(text);
      if (basic && Buffer.from(basic[1]!, 'base64').toString('utf8').includes(':'))
        credential(node, `Hardcoded Basic credentials (${maskSecret(text)})`);
      const bearer = /^Bearer ([A-Za-z0-9._~+/=-]{16,})$/.exec(text);
      if (bearer && !PLACEHOLDER.test(bearer[1]!)) credential(node, `Hardcoded bearer token (${maskSecret(text)})`);
      const uri = CONNECTION_URI.exec(text);
      if (uri && !PLACEHOLDER.test(uri[1]!) && !uri[1]!.includes('${') && uri[1]!.length >= 3)
        credential(node, `Connection string with an embedded password (${maskSecret(uri[1]!)})`);
    }
    // Buffer.from('admin:secret').toString('base64'), btoa('admin:secret'), .auth('user', 'pass')
    if (ts.isCallExpression(node)) {
      const callee = node.expression.getText(sf);
      const [first, second] = node.arguments;
      if (/(^|\.)(from|btoa)$/.test(callee) && first && ts.isStringLiteralLike(first)) {
        const pair = /^[^:\s]{1,64}:([^\s]{4,})$/.exec(first.text);
        if (pair && !PLACEHOLDER.test(pair[1]!) && /base64|btoa|Basic/.test(node.parent.getText(sf) + callee))
          credential(first, `Hardcoded user:password pair (${maskSecret(pair[1]!)})`);
      }
      if (
        /\.auth$/.test(callee) &&
        second &&
        ts.isStringLiteralLike(second) &&
        looksLikeCredential('password', second.text)
      )
        credential(second, `Hardcoded password passed to ${callee}() (${maskSecret(second.text)})`);
      // jwt.sign(payload, 'secret'), jwt.verify(token, KEY), crypto.createHmac('sha256', 'key'), cookieParser('s')
      if (SIGNING_CALLS.test(callee) && !/\.(update|digest)$/.test(callee)) {
        const method = callee.slice(callee.lastIndexOf('.') + 1);
        const jwtLike = /jwt|jsonwebtoken|jose|token|JWT/i.test(callee) || /^(sign|verify|jwtVerify)$/.test(callee);
        const keyArg = method === 'cookieParser' || method === 'createSecretKey' ? first : second;
        const relevant =
          method === 'createHmac' ||
          method === 'cookieParser' ||
          method === 'createSecretKey' ||
          jwtLike ||
          method === 'jwtVerify';
        const key = relevant ? keyLiteral(sf, keyArg) : undefined;
        if (key) weakKey(node, `${callee}()`, key);
        // new SignJWT(…).sign(new TextEncoder().encode('secret'))
        if (!key && method === 'sign' && /SignJWT/.test(callee) && first) {
          const jose = keyLiteral(sf, first);
          if (jose) weakKey(node, 'SignJWT.sign()', jose);
        }
      }
      // session({ secret: 'keyboard cat' }), expressjwt({ secret }), new JwtStrategy({ secretOrKey }), JwtModule.register({ secret })
      if (/session|jwt|cookie|strategy|register|passport|auth/i.test(callee)) {
        for (const arg of node.arguments) {
          if (!ts.isObjectLiteralExpression(arg)) continue;
          for (const property of arg.properties) {
            // { secret: '…' } or the shorthand { secret } of a constant
            const initializer = ts.isPropertyAssignment(property)
              ? property.initializer
              : ts.isShorthandPropertyAssignment(property)
                ? property.name
                : undefined;
            const propertyName = property.name?.getText(sf) ?? '';
            if (!initializer || !KEY_PROPERTIES.test(propertyName)) continue;
            const values = ts.isArrayLiteralExpression(initializer) ? [...initializer.elements] : [initializer];
            for (const value of values) {
              const key = keyLiteral(sf, value);
              if (key) weakKey(property, `${callee}({ ${propertyName} })`, key);
            }
          }
        }
      }
    }
    // const JWT_SECRET = process.env.JWT_SECRET || 'dev-secret'; export const jwtConstants = { secret: 'secretKey' }
    if (
      (ts.isVariableDeclaration(node) || ts.isPropertyAssignment(node)) &&
      node.initializer &&
      (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) &&
      isSigningKeyName(node.name.text) &&
      !ts.isIdentifier(node.initializer)
    ) {
      const key = keyLiteral(sf, node.initializer);
      const weak =
        key &&
        key.value.length > 0 &&
        (key.fallback ||
          key.value.length < 32 ||
          WEAK_KEY_WORDS.test(key.value) ||
          PLACEHOLDER.test(key.value) ||
          new Set(key.value).size < 6);
      if (key && weak) weakKey(node, `\`${node.name.text}\``, key);
    }
  };
  // An explicit stack, in source order: deeply nested generated code cannot overflow the call stack.
  const pending: ts.Node[] = [sf];
  while (pending.length) {
    const node = pending.pop()!;
    visit(node);
    const children: ts.Node[] = [];
    node.forEachChild((child) => {
      children.push(child);
    });
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!);
  }
  return hits;
}

/**
 * Our own detectors: private key blocks, credentials assigned to secret-named variables, high-entropy
 * literals. Each secret is reported once (the first detector to see its span wins: AST positions first, a
 * weak signing key says more than "a high-entropy string"); different secrets on one line each count.
 * Raw text is scanned line by line, long lines in windows (project.ts `matchPieces`).
 */
export function detectSecrets(project: Project, unassessed: { path: string; reason: string }[] = []): Finding[] {
  const findings: Finding[] = [];
  for (const file of scannableFiles(project)) {
    if (/(^|\/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml)$/.test(file.path)) continue;
    const spans = new ReportedSpans();
    let reported = 0;
    const add = (item: Finding, start: number, end: number) => {
      if (reported < MAX_FINDINGS_PER_FILE && spans.claim(start, end)) {
        findings.push(item);
        reported++;
      }
    };
    const full = () => reported >= MAX_FINDINGS_PER_FILE;
    if (hasLongLine(file.content)) {
      // Minified or crafted: parsing it costs seconds. The pattern detectors below read it in windows.
      if (isCodeFile(file.path))
        unassessed.push({
          path: file.path,
          reason: `a line longer than ${MAX_SCANNED_LINE} characters: the code-aware secret detectors skip it (pattern detectors scanned it)`,
        });
    } else {
      try {
        for (const hit of detectCodeSecrets(file)) add(hit.finding, hit.start, hit.end);
      } catch (error) {
        // Too deep or too odd for the parser: the pattern detectors below still run, and the file is listed.
        unassessed.push({
          path: file.path,
          reason: `secret detection could not parse it (${error instanceof Error ? error.message : String(error)}); pattern detectors only`,
        });
      }
    }
    for (const match of matchPieces(file.content, PRIVATE_KEY)) {
      if (full()) break;
      const item = lineFinding(
        file,
        match.index,
        'secrets/private-key',
        'critical',
        'Private key embedded in the project',
      );
      add(item, match.index, match.index + match[0].length);
    }
    for (const match of matchPieces(file.content, ASSIGNMENT)) {
      if (full()) break;
      const name = match[1]!;
      const value = match[2] ?? match[3]!;
      if (!isSecretName(name) || !looksLikeCredential(name, value, { code: isCodeFile(file.path) })) continue;
      const offset = match.index + match[0].lastIndexOf(value);
      add(
        lineFinding(
          file,
          offset,
          'secrets/hardcoded-credential',
          'high',
          `Hardcoded credential in \`${name}\` (${maskSecret(value)})`,
        ),
        offset,
        offset + value.length,
      );
    }
    for (const match of matchPieces(file.content, STRING_LITERAL)) {
      if (full()) break;
      const value = match[1]!;
      if (!isHighEntropyToken(value)) continue;
      const before = file.content.slice(Math.max(0, match.index - 60), match.index);
      // Hashes, checksums and integrity strings are high-entropy by nature and not secrets.
      if (
        /(hash|sha\d*|digest|checksum|integrity|fingerprint|etag|uuid|nonce|iv|salt)\w*["']?\s*[:=(,]\s*$/i.test(before)
      )
        continue;
      add(
        lineFinding(
          file,
          match.index + 1,
          'secrets/high-entropy-string',
          'medium',
          `High-entropy string that may be a secret (${maskSecret(value)})`,
        ),
        match.index + 1,
        match.index + 1 + value.length,
      );
    }
    if (full())
      unassessed.push({
        path: file.path,
        reason: `${MAX_FINDINGS_PER_FILE} possible secrets reported; the rest of the file was not scanned`,
      });
  }
  return findings;
}

// A file with this many is failing anyway: further findings cost time and report space, not information.
const MAX_FINDINGS_PER_FILE = 500;

/** Character spans already reported in one file, sorted: a secret two detectors see is reported once. */
class ReportedSpans {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  /** Records the span unless it overlaps one already reported; true when it was new. */
  claim(start: number, end: number): boolean {
    let low = 0;
    let high = this.starts.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.starts[mid]! < start) low = mid + 1;
      else high = mid;
    }
    // Spans come from different detectors and may nest: check both neighbours and any long span before.
    for (let i = low - 1; i >= 0 && i >= low - 8; i--) if (this.ends[i]! > start) return false;
    if (low < this.starts.length && this.starts[low]! < end) return false;
    this.starts.splice(low, 0, start);
    this.ends.splice(low, 0, end);
    return true;
  }
}

const hasLongLine = (text: string) => {
  let start = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) {
    if (at - start > MAX_SCANNED_LINE) return true;
    start = at + 1;
  }
  return text.length - start > MAX_SCANNED_LINE;
};

/** Random-looking tokens: mixed letters and digits, no long dictionary-like runs, entropy of random base64/hex. */
export function isHighEntropyToken(value: string): boolean {
  if (!/\d/.test(value) || !/[A-Za-z]/.test(value)) return false;
  if (/^[0-9a-f]+$/i.test(value))
    return (
      value.length >= 40 &&
      entropy(value) >= 3.7 &&
      /[a-f]/i.test(value) &&
      !/^[0-9a-f]{40}$|^[0-9a-f]{64}$/i.test(value)
    );
  return entropy(value) >= 4.5 && /[A-Z]/.test(value) && /[a-z]/.test(value);
}

export interface SecretScan {
  findings: Finding[];
  /** Files the AST detectors could not parse (the pattern detectors still read them). */
  unassessed: { path: string; reason: string }[];
  /** secretlint's status; our own detectors always run. */
  secretlint: { ran: true } | { ran: false; reason: string };
}

/** secretlint's recommended rules plus our detectors; one finding per line, secretlint's (more specific) first. */
export async function scanSecrets(project: Project): Promise<SecretScan> {
  const files = scannableFiles(project);
  const findings: Finding[] = [];
  let secretlint: SecretScan['secretlint'] = { ran: true };
  try {
    for (const hit of await runSecretlint(files)) {
      const rule = hit.ruleId.replace(/^@secretlint\/secretlint-rule-/, '');
      findings.push(
        finding({
          ruleId: `secrets/${rule}`,
          tool: 'secrets',
          category: 'security',
          severity: 'critical',
          message: `${rule} credential detected by secretlint (${hit.messageId || 'secret'}; value redacted)`,
          location: { path: hit.path, line: hit.line, column: hit.column },
          cwe: ['CWE-798'],
          remediation: 'Revoke and rotate the credential, remove it from the code, and load it from a secret manager.',
        }),
      );
    }
  } catch (error) {
    secretlint = { ran: false, reason: error instanceof Error ? error.message : String(error) };
  }
  // secretlint's hit and ours on one line are the same secret seen by two detectors: its (more specific) one stays.
  const seen = new Set(findings.map((f) => `${f.location!.path}:${f.location!.line}`));
  const unassessed: SecretScan['unassessed'] = [];
  for (const own of detectSecrets(project, unassessed)) {
    const key = `${own.location!.path}:${own.location!.line}`;
    if (!seen.has(key)) findings.push(own);
  }
  return { findings, unassessed, secretlint };
}
