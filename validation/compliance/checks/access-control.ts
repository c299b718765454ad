import ts from 'typescript';
import { calleeName, calls, hitAt, importsOf, isTrue, lastPart, property } from '../ast';
import type { ComplianceCheck } from '../check';
import { findRoutes, globalMiddleware, isMutating, type Route } from '../routes';

const AUTH_GUARD =
  /auth|authenticat|authori[sz]|require(User|Login|Role|Admin|Permission|Scope)|isAuthenticated|isLoggedIn|ensureLoggedIn|ensureAuth|passport|jwt|verifyToken|checkJwt|protect|guard|acl|rbac|permission|hasRole|canAccess|apiKey|bearer/i;
// What a handler does when it checks the caller itself.
const HANDLER_AUTH =
  /req(uest)?\.(user|auth|session\.user(Id)?)|status\(\s*40[13]\s*\)|\b40[13]\b|Unauthori[sz]ed|Forbidden|authori[sz]e\(|hasPermission|checkPermission|assertCan|isAdmin/;
// Routes that must be reachable before logging in.
const PUBLIC_PATH =
  /login|logout|sign-?in|sign-?up|register|token|refresh|forgot|reset|password|verify|callback|oauth|webhook|health|ready|live|status|public/i;
const AUDIT = /audit/i;
const RATE_LIMIT = /rate.?limit|limiter|throttl|slow.?down|brute/i;
const AUTH_PATH = /login|sign-?in|auth|token|password|reset|forgot|otp|mfa|2fa|verify|register|sign-?up/i;
const RATE_LIMIT_PACKAGES =
  /^(express-rate-limit|rate-limiter-flexible|@fastify\/rate-limit|express-slow-down|express-brute|@nestjs\/throttler|koa-ratelimit|hono-rate-limiter)$/;

const describe = (route: Route) => `${route.method.toUpperCase()} ${route.path}`;

export const missingAuthorization: ComplianceCheck = {
  id: 'missing-authorization',
  title: 'State-changing route without authentication or authorisation',
  cwe: ['CWE-862', 'CWE-306'],
  remediation:
    'Put authentication and a permission check (middleware or guard) in front of every state-changing route.',
  run(ctx) {
    const global = globalMiddleware(ctx).some((text) => AUTH_GUARD.test(text));
    const routes = findRoutes(ctx).filter((route) => isMutating(route) && !PUBLIC_PATH.test(route.path));
    const hits = global
      ? []
      : routes
          .filter((route) => !AUTH_GUARD.test(route.guards) && !HANDLER_AUTH.test(route.handler))
          .map((route) =>
            hitAt(
              route.unit,
              route.node,
              `${describe(route)} changes state with no authentication or authorisation check`,
            ),
          );
    return { applicable: routes.length > 0, hits };
  },
};

export const missingAuditLogging: ComplianceCheck = {
  id: 'missing-audit-logging',
  title: 'State-changing route without an audit trail',
  cwe: ['CWE-778'],
  remediation:
    'Record who did what and when (actor, action, target, outcome) for every state-changing request, in an append-only audit log.',
  run(ctx) {
    const routes = findRoutes(ctx).filter(isMutating);
    if (globalMiddleware(ctx).some((text) => AUDIT.test(text))) return { applicable: routes.length > 0, hits: [] };
    const hits = routes
      .filter((route) => !AUDIT.test(route.guards) && !AUDIT.test(route.handler))
      // A handler defined in another file is taken as audited when this file imports an audit module.
      .filter((route) => route.handlerFound || !importsOf(route.unit).some((spec) => AUDIT.test(spec)))
      .map((route) => hitAt(route.unit, route.node, `${describe(route)} changes state but writes no audit event`));
    return { applicable: routes.length > 0, hits };
  },
};

export const noAuthRateLimit: ComplianceCheck = {
  id: 'no-auth-rate-limit',
  title: 'Authentication endpoint without rate limiting',
  cwe: ['CWE-307'],
  remediation:
    'Limit attempts per account and per client on login, token, reset and registration routes (e.g. express-rate-limit), with lockout or backoff.',
  run(ctx) {
    const routes = findRoutes(ctx).filter((route) => route.method !== 'get' && AUTH_PATH.test(route.path));
    const protectedGlobally =
      globalMiddleware(ctx).some((text) => RATE_LIMIT.test(text)) ||
      ctx.sources.some(
        (unit) =>
          /@Throttle|ThrottlerGuard/.test(unit.file.content) &&
          importsOf(unit).some((s) => RATE_LIMIT_PACKAGES.test(s)),
      );
    const hits = protectedGlobally
      ? []
      : routes
          .filter((route) => !RATE_LIMIT.test(route.guards) && !/attempts|lockout|limiter|throttl/i.test(route.handler))
          .map((route) =>
            hitAt(route.unit, route.node, `${describe(route)} accepts unlimited authentication attempts`),
          );
    return { applicable: routes.length > 0, hits };
  },
};

const JWT_LIBRARIES = /^(jsonwebtoken|jose|jwt-simple|@nestjs\/jwt|@fastify\/jwt|express-jwt|jwt-decode)$/;

export const weakJwtVerification: ComplianceCheck = {
  id: 'weak-jwt-verification',
  title: 'JWT accepted without signature or expiry verification',
  cwe: ['CWE-347', 'CWE-613'],
  remediation:
    'Verify every token with jwt.verify, an explicit algorithm allow-list (never "none"), and expiry checks on.',
  run(ctx) {
    const units = ctx.sources.filter((unit) => importsOf(unit).some((spec) => JWT_LIBRARIES.test(spec)));
    const hits = units.flatMap((unit) => {
      const found = [];
      const fileVerifies = calls(unit).some((call) => /^(verify|jwtVerify)$/.test(lastPart(calleeName(call))));
      for (const call of calls(unit)) {
        const name = calleeName(call);
        if (/(^|\.)decode$/.test(name) && /jwt/i.test(name) && !fileVerifies) {
          found.push(hitAt(unit, call, 'token decoded without verifying its signature'));
        }
        for (const arg of call.arguments) {
          if (!ts.isObjectLiteralExpression(arg)) continue;
          const algorithms = property(arg, 'algorithms') ?? property(arg, 'algorithm');
          if (algorithms && /["']none["']/i.test(algorithms.getText(unit.sf)))
            found.push(hitAt(unit, algorithms, 'the "none" algorithm is accepted'));
          const ignore = property(arg, 'ignoreExpiration');
          if (isTrue(ignore)) found.push(hitAt(unit, ignore!, 'token expiry is ignored'));
        }
      }
      return found;
    });
    return { applicable: units.length > 0, hits };
  },
};
