import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { appendAuditEvent } from '../../adapters/db/audit';
import { isApiKey, verifyApiKey } from '../../adapters/identity/api-keys';
import { AuthenticationError, IdentityProviderUnavailable } from '../../adapters/identity/errors';
import type { Principal } from '../../contracts/identity';
import type { ApiDependencies } from '../dependencies';
import { Problem } from '../problems';

/** Failed logins recorded in the audit trail per minute, at most: a flood of bad keys must not flood the table. */
const AUDITED_FAILURES_PER_MINUTE = 60;

/**
 * Every route behind it needs `Authorization: Bearer <API key or OIDC token>`; the caller becomes
 * `res.locals.principal`. A refusal is a 401 saying why (never echoing the credential), and is audited.
 */
export function authenticate(deps: ApiDependencies): RequestHandler {
  const failures = { minute: 0, count: 0 };
  const audited = async (
    req: { method: string; path: string; ip?: string },
    error: AuthenticationError,
    hint: string,
  ) => {
    const minute = Math.floor(Date.now() / 60_000);
    if (failures.minute !== minute) Object.assign(failures, { minute, count: 0 });
    if (++failures.count > AUDITED_FAILURES_PER_MINUTE) return;
    await appendAuditEvent(deps.db, {
      eventKey: `auth:${randomUUID()}`,
      tenant: null,
      type: 'auth.failed',
      actor: hint,
      data: { reason: error.reason, message: error.message, method: req.method, path: req.path, ip: req.ip ?? null },
    }).catch((failure: Error) => console.error('api: could not audit a failed login:', failure.message));
  };

  return async (req, res, next) => {
    const header = req.header('authorization');
    try {
      if (!header)
        throw new AuthenticationError(
          'this route needs credentials: Authorization: Bearer <API key or OIDC token>',
          'missing',
        );
      const match = /^Bearer +([\x21-\x7e]+)$/i.exec(header);
      if (!match) throw new AuthenticationError('Authorization must be "Bearer <API key or OIDC token>"', 'malformed');
      const credential = match[1]!;
      res.locals.principal = await verify(deps, credential);
      next();
    } catch (error) {
      if (error instanceof IdentityProviderUnavailable) {
        return next(new Problem(503, 'Identity provider unavailable', error.message));
      }
      if (!(error instanceof AuthenticationError)) return next(error);
      if (error.reason !== 'missing') await audited(req, error, credentialHint(header));
      res.set('WWW-Authenticate', `Bearer realm="quantumlayer", error="invalid_token"`);
      next(new Problem(401, 'Unauthorized', error.message));
    }
  };
}

async function verify(deps: ApiDependencies, credential: string): Promise<Principal> {
  if (isApiKey(credential)) return verifyApiKey(deps.db, credential);
  if (!deps.oidc)
    throw new AuthenticationError('not an API key, and OIDC is not configured (AUTH_OIDC_ISSUER)', 'invalid');
  return deps.oidc.verify(credential);
}

/** What the audit trail may say about a refused credential: an API key's public prefix, never a secret. */
function credentialHint(header: string | undefined): string {
  const key = /qlp_([0-9a-f]{12})_/.exec(header ?? '');
  return key ? `key:${key[1]}` : 'anonymous';
}
