import ts from 'typescript';
import { positionAt } from '../../project';
import {
  calleeName,
  calls,
  expressionName,
  hitAt,
  initializerOf,
  isFalse,
  isTrue,
  lastPart,
  nodesOf,
  property,
  propertyName,
  stringValue,
  walk,
  type CheckContext,
  type Hit,
} from '../ast';
import type { ComplianceCheck } from '../check';

const NETWORK =
  /\bfetch\(|axios|https?\.(request|get|Agent)|tls\.connect|\bgot\(|superagent|nodemailer|new (Pool|Client)\(|createConnection|createTransport|WebSocket|mongoose\.connect|https?:\/\//;

/** Text files that are configuration rather than code: `.env`, YAML, JSON, properties. */
const configFiles = (ctx: CheckContext) =>
  ctx.files.filter((file) => /(^|\/)\.env(\.\w+)?$|\.(ya?ml|json|properties|ini|conf)$/.test(file.path));

function configHits(ctx: CheckContext, pattern: RegExp, message: string): Hit[] {
  return configFiles(ctx).flatMap((file) =>
    [...file.content.matchAll(pattern)].map((match) => ({
      path: file.path,
      ...positionAt(file.content, match.index),
      message,
    })),
  );
}

export const tlsVerificationDisabled: ComplianceCheck = {
  id: 'tls-verification-disabled',
  title: 'TLS certificate verification disabled',
  cwe: ['CWE-295'],
  remediation:
    'Keep certificate verification on; to trust a private CA, pass it with the `ca` option instead of disabling checks.',
  run(ctx) {
    const hits: Hit[] = [];
    for (const unit of ctx.sources) {
      walk(unit.sf, (node) => {
        if (ts.isPropertyAssignment(node)) {
          const name = propertyName(node.name);
          if (
            (name === 'rejectUnauthorized' || name === 'strictSSL' || name === 'verify') &&
            isFalse(node.initializer)
          ) {
            hits.push(hitAt(unit, node, `${name}: false turns off certificate verification`));
          }
          if (
            name === 'rejectUnauthorized' &&
            ts.isStringLiteral(node.initializer) &&
            /^(0|false)$/.test(node.initializer.text)
          ) {
            hits.push(hitAt(unit, node, 'rejectUnauthorized set to a falsy string turns off certificate verification'));
          }
          if (
            name === 'checkServerIdentity' &&
            (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))
          ) {
            const body = node.initializer.body;
            if (
              !ts.isBlock(body) ? /^(undefined|null|void 0)$/.test(body.getText(unit.sf)) : body.statements.length === 0
            ) {
              hits.push(hitAt(unit, node, 'checkServerIdentity accepts any certificate'));
            }
          }
        }
        if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
          if (
            /NODE_TLS_REJECT_UNAUTHORIZED$/.test(expressionName(node.left)) &&
            /^(0|false)$/.test(stringValue(node.right) ?? node.right.getText(unit.sf))
          ) {
            hits.push(hitAt(unit, node, 'NODE_TLS_REJECT_UNAUTHORIZED=0 disables certificate checks process-wide'));
          }
        }
      });
    }
    hits.push(
      ...configHits(
        ctx,
        /^\s*NODE_TLS_REJECT_UNAUTHORIZED\s*[=:]\s*["']?0/gm,
        'NODE_TLS_REJECT_UNAUTHORIZED=0 disables certificate checks process-wide',
      ),
    );
    const applicable = hits.length > 0 || ctx.sources.some((unit) => NETWORK.test(unit.file.content));
    return { applicable, hits };
  },
};

const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1\]|host\.docker\.internal)(:\d+)?$/i;
// URLs that are identifiers, not endpoints: XML namespaces and schema ids.
const NAMESPACE_HOST =
  /(^|\.)(w3\.org|xmlsoap\.org|json-schema\.org|schemas\.microsoft\.com|purl\.org|xmlns\.com|ns\.adobe\.com)$/i;
const CLEARTEXT_URL = /^(http|ws|ftp):\/\/([^/\s:?#]+(:\d+)?)/i;
const URL_CONTEXT = /url|uri|endpoint|host|base|api|webhook|server|origin|target|href|callback/i;
const REQUEST_CALL =
  /^(fetch|axios(\.\w+)?|got(\.\w+)?|https?\.(request|get)|request|superagent\.\w+|ky(\.\w+)?|new WebSocket|WebSocket)$/;

function cleartextTarget(url: string): string | undefined {
  const match = CLEARTEXT_URL.exec(url);
  if (!match) return undefined;
  const host = match[2]!;
  if (LOCAL_HOST.test(host) || NAMESPACE_HOST.test(host.replace(/:\d+$/, ''))) return undefined;
  return `${match[1]!.toLowerCase()}://${host}`;
}

export const cleartextTransmission: ComplianceCheck = {
  id: 'cleartext-transmission',
  title: 'Data sent over an unencrypted channel',
  cwe: ['CWE-319'],
  remediation:
    'Use https:// (wss://, sftp) for every remote endpoint, and require TLS on mail and database connections.',
  run(ctx) {
    const hits: Hit[] = [];
    for (const unit of ctx.sources) {
      walk(unit.sf, (node) => {
        if (!ts.isStringLiteral(node) && !ts.isNoSubstitutionTemplateLiteral(node) && !ts.isTemplateHead(node)) return;
        const target = cleartextTarget(node.text);
        if (!target) return;
        const parent = node.parent;
        const call =
          ts.isCallExpression(parent) || ts.isNewExpression(parent)
            ? parent
            : ts.isTemplateExpression(parent) && ts.isCallExpression(parent.parent)
              ? parent.parent
              : undefined;
        const named =
          (ts.isVariableDeclaration(parent) && URL_CONTEXT.test(parent.name.getText(unit.sf))) ||
          (ts.isPropertyAssignment(parent) && URL_CONTEXT.test(parent.name.getText(unit.sf))) ||
          (ts.isBinaryExpression(parent) && URL_CONTEXT.test(parent.left.getText(unit.sf)));
        const requested =
          call !== undefined &&
          REQUEST_CALL.test(ts.isNewExpression(call) ? `new ${calleeName(call)}` : calleeName(call));
        if (named || requested) hits.push(hitAt(unit, node, `connection to ${target} is unencrypted`));
      });
      for (const object of nodesOf(unit, ts.isObjectLiteralExpression)) {
        if (isTrue(property(object, 'ignoreTLS')))
          hits.push(hitAt(unit, object, 'mail transport ignores TLS (ignoreTLS: true)'));
      }
    }
    for (const file of ctx.files.filter((f) => /(^|\/)\.env(\.\w+)?$/.test(f.path))) {
      for (const match of file.content.matchAll(
        /^\s*[A-Z0-9_]*(URL|URI|ENDPOINT|HOST)[A-Z0-9_]*\s*=\s*["']?((http|ws|ftp):\/\/[^\s"']+)/gm,
      )) {
        const target = cleartextTarget(match[2]!);
        if (target)
          hits.push({
            path: file.path,
            ...positionAt(file.content, match.index),
            message: `connection to ${target} is unencrypted`,
          });
      }
    }
    const applicable = hits.length > 0 || ctx.files.some((file) => NETWORK.test(file.content));
    return { applicable, hits };
  },
};

const ANY_ORIGIN = /^["'`]\*["'`]$|^true$/;

export const permissiveCorsWithCredentials: ComplianceCheck = {
  id: 'permissive-cors-credentials',
  title: 'CORS allows any origin with credentials',
  cwe: ['CWE-942', 'CWE-346'],
  remediation:
    'When credentials are allowed, list trusted origins explicitly; never reflect the Origin header or use "*".',
  run(ctx) {
    const hits: Hit[] = [];
    let applicable = false;
    for (const unit of ctx.sources) {
      if (/cors|Access-Control-Allow-Origin/i.test(unit.file.content)) applicable = true;
      for (const object of nodesOf(unit, ts.isObjectLiteralExpression)) {
        const origin = property(object, 'origin');
        if (!origin || !isTrue(property(object, 'credentials'))) continue;
        const text = origin.getText(unit.sf);
        const reflects =
          (ts.isArrowFunction(origin) || ts.isFunctionExpression(origin)) &&
          /\(\s*null\s*,\s*(true|origin)\s*\)/.test(text);
        if (ANY_ORIGIN.test(text) || reflects || /headers\.origin|header\(\s*["']origin["']\s*\)/i.test(text)) {
          hits.push(hitAt(unit, object, 'credentials allowed for any origin'));
        }
      }
      // Hand-written headers: a wildcard or reflected origin in a file that also allows credentials.
      const allowsCredentials = /Access-Control-Allow-Credentials["'`]\s*,\s*["'`]?true/i.test(unit.file.content);
      if (!allowsCredentials) continue;
      for (const call of calls(unit)) {
        if (!/^(setHeader|header|set|append)$/.test(lastPart(calleeName(call)))) continue;
        if (!/^access-control-allow-origin$/i.test(stringValue(call.arguments[0]) ?? '')) continue;
        const value = call.arguments[1]?.getText(unit.sf) ?? '';
        if (/^["'`]\*["'`]$/.test(value) || /origin/i.test(value))
          hits.push(hitAt(unit, call, 'credentials allowed for any origin'));
      }
    }
    return { applicable, hits };
  },
};

const AUTH_COOKIE = /sess|token|auth|jwt|sid|remember|login/i;

export const insecureCookie: ComplianceCheck = {
  id: 'insecure-cookie',
  title: 'Session or auth cookie without Secure/HttpOnly',
  cwe: ['CWE-614', 'CWE-1004'],
  remediation: 'Set session and token cookies with secure: true, httpOnly: true and sameSite "lax" or "strict".',
  run(ctx) {
    const hits: Hit[] = [];
    let applicable = false;
    for (const unit of ctx.sources) {
      for (const call of calls(unit)) {
        const name = calleeName(call);
        const isCookieCall = lastPart(name) === 'cookie' && call.arguments.length >= 2;
        const isSession = /^(session|expressSession|cookieSession|fastifySession)$/.test(lastPart(name));
        if (!isCookieCall && !isSession) continue;
        applicable = true;
        const optionsArg = isCookieCall ? call.arguments[2] : call.arguments[0];
        let options = optionsArg && ts.isObjectLiteralExpression(optionsArg) ? optionsArg : undefined;
        if (isSession && options) {
          const cookie = property(options, 'cookie');
          options = cookie && ts.isObjectLiteralExpression(cookie) ? cookie : undefined;
        }
        const cookieName = isCookieCall ? (stringValue(call.arguments[0]) ?? '') : 'session';
        // Options held in a variable (`res.cookie('sid', id, COOKIE_OPTIONS)`): its object literal, or not judged.
        if (!options && isCookieCall && optionsArg && ts.isIdentifier(optionsArg)) {
          const init = initializerOf(unit, optionsArg.text, call);
          if (!init || !ts.isObjectLiteralExpression(init)) continue;
          options = init;
        }
        if (!options) {
          if (isCookieCall && AUTH_COOKIE.test(cookieName))
            hits.push(hitAt(unit, call, `cookie "${cookieName}" set without Secure and HttpOnly`));
          continue;
        }
        if (isFalse(property(options, 'secure')))
          hits.push(hitAt(unit, options, `cookie "${cookieName}" is sent over plain HTTP (secure: false)`));
        // A double-submit CSRF cookie must be readable by the page's script.
        if (isFalse(property(options, 'httpOnly')) && !/csrf|xsrf/i.test(cookieName))
          hits.push(hitAt(unit, options, `cookie "${cookieName}" is readable by scripts (httpOnly: false)`));
      }
    }
    return { applicable, hits };
  },
};
