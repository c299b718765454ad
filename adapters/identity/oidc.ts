import {
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyResult,
  type KeyLike,
} from 'jose';
import { z } from 'zod';
import { Principal, roles as knownRoles, Role, TenantName } from '../../contracts/identity';
import { AuthenticationError, IdentityProviderUnavailable } from './errors';
import type { OidcConfig } from './config';

/**
 * OIDC bearer tokens: a JWT signed by the configured issuer with one of its published keys (JWKS),
 * meant for this API (audience), current (exp/nbf with clock tolerance), and carrying roles and tenants
 * in the configured claims. Keys are fetched on first use and cached (jose: 10 minutes); a token with an
 * unknown `kid` refetches them (at most every 30 s), so the issuer's key rotation needs nothing from us.
 */

export interface OidcVerifier {
  /** The caller a valid token names; AuthenticationError (401) or IdentityProviderUnavailable (503) otherwise. */
  verify(token: string): Promise<Principal>;
}

/** Tuning of the key cache; the defaults are jose's. Tests shorten the cooldown to rotate keys quickly. */
export interface OidcVerifierOptions {
  /** Least time between two JWKS fetches caused by unknown `kid`s (a flood of forged kids cannot hammer the issuer). */
  jwksCooldownMs?: number;
  /** How long fetched keys are used before they are fetched again. */
  jwksCacheMaxAgeMs?: number;
  /** One HTTP request to the issuer (discovery or JWKS). */
  timeoutMs?: number;
}

/** Longer than any real token (Keycloak's with many roles are a few kB); refused before any parsing. */
const MAX_TOKEN_LENGTH = 16_384;
/** Tried after the configured name claim. */
const NAME_FALLBACKS = ['name', 'preferred_username', 'sub'];

const Discovery = z.object({ issuer: z.string(), jwks_uri: z.url({ protocol: /^https?$/ }) });

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function createOidcVerifier(config: OidcConfig, options: OidcVerifierOptions = {}): OidcVerifier {
  const timeoutMs = options.timeoutMs ?? 5000;
  let jwks: Promise<JWTVerifyGetKey> | undefined;

  /** The remote key set, made once; the discovery document is fetched at most once successfully. */
  const keySet = (): Promise<JWTVerifyGetKey> => {
    jwks ??= jwksUrl().then((url) =>
      createRemoteJWKSet(new URL(url), {
        timeoutDuration: timeoutMs,
        cooldownDuration: options.jwksCooldownMs,
        cacheMaxAge: options.jwksCacheMaxAgeMs,
      }),
    );
    // A failed discovery is not remembered: the next request tries again.
    jwks.catch(() => (jwks = undefined));
    return jwks;
  };

  const jwksUrl = async (): Promise<string> => {
    if (config.jwksUrl) return config.jwksUrl;
    const url = `${config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let body: unknown;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      body = await response.json();
    } catch (error) {
      throw new IdentityProviderUnavailable(`OIDC discovery ${url} failed: ${describe(error)}`, { cause: error });
    }
    const parsed = Discovery.safeParse(body);
    if (!parsed.success) {
      throw new IdentityProviderUnavailable(`OIDC discovery ${url}: no valid issuer and jwks_uri`);
    }
    if (parsed.data.issuer !== config.issuer) {
      // OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was fetched for.
      throw new IdentityProviderUnavailable(
        `OIDC discovery ${url} names issuer ${parsed.data.issuer}, not AUTH_OIDC_ISSUER ${config.issuer}`,
      );
    }
    return parsed.data.jwks_uri;
  };

  /** jose's key lookup, with every failure other than "no such key" reported as the issuer being unavailable. */
  const getKey: JWTVerifyGetKey = async (header, token) => {
    const remote = await keySet();
    try {
      return await remote(header, token);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported
      ) {
        throw error;
      }
      throw new IdentityProviderUnavailable(`fetching the OIDC signing keys failed: ${describe(error)}`, {
        cause: error,
      });
    }
  };

  const verifyOptions = {
    issuer: config.issuer,
    audience: config.audience,
    clockTolerance: config.clockToleranceSeconds,
    algorithms: config.algorithms,
    requiredClaims: ['exp', 'sub'],
  };

  const verifyJwt = async (token: string): Promise<JWTVerifyResult> => {
    try {
      return await jwtVerify(token, getKey, verifyOptions);
    } catch (error) {
      // No `kid` and several keys of the token's type (e.g. during a rotation): try each of them.
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
      const candidates = error as errors.JWKSMultipleMatchingKeys & AsyncIterable<KeyLike>;
      for await (const key of candidates) {
        try {
          return await jwtVerify(token, key, verifyOptions);
        } catch (inner) {
          if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
        }
      }
      throw new errors.JWSSignatureVerificationFailed();
    }
  };

  return {
    async verify(token) {
      if (!token) throw new AuthenticationError('no bearer token', 'missing');
      if (token.length > MAX_TOKEN_LENGTH) throw new AuthenticationError('the bearer token is too long', 'malformed');
      let payload: JWTPayload;
      try {
        ({ payload } = await verifyJwt(token));
      } catch (error) {
        throw refusal(error, config);
      }
      return principalOf(payload, config);
    },
  };
}

/** A jose failure as a message the client may see (it never quotes the token or its header). */
function refusal(error: unknown, config: OidcConfig): Error {
  if (error instanceof IdentityProviderUnavailable || error instanceof AuthenticationError) return error;
  if (error instanceof errors.JWTExpired) return new AuthenticationError('the token has expired', 'expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') {
      return new AuthenticationError(`the token has no "${error.claim}" claim`, 'invalid');
    }
    switch (error.claim) {
      case 'iss':
        return new AuthenticationError('the token was not issued by the accepted identity provider', 'invalid');
      case 'aud':
        return new AuthenticationError(`the token is not meant for this API (audience)`, 'invalid');
      case 'nbf':
        return new AuthenticationError('the token is not valid yet (nbf)', 'invalid');
      default:
        return new AuthenticationError(`the token's "${error.claim}" claim is invalid`, 'invalid');
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new AuthenticationError(
      `the token's signing algorithm is not accepted (accepted: ${config.algorithms.join(', ')})`,
      'invalid',
    );
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new AuthenticationError(
      'the token is signed with a key the identity provider does not publish',
      'unknown-key',
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthenticationError('the token signature does not verify', 'invalid');
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new AuthenticationError('the bearer token is not a well-formed JWT', 'malformed');
  }
  if (error instanceof errors.JOSEError) return new AuthenticationError('the token cannot be verified', 'invalid');
  return error instanceof Error ? error : new Error(String(error));
}

/** A claim by exact name, else by dotted path into nested objects (`realm_access.roles`). */
function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A string ("a b" or "a,b") or an array of strings, as a list; anything else is empty. */
function stringsAt(payload: JWTPayload, path: string): string[] {
  const value = claimAt(payload, path);
  const items = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  return items.flatMap((item) => (typeof item === 'string' ? item.split(/[\s,]+/).filter(Boolean) : []));
}

function principalOf(payload: JWTPayload, config: OidcConfig): Principal {
  // jwtVerify has checked that iss equals config.issuer and that sub is present.
  if (typeof payload.sub !== 'string' || !payload.sub) {
    throw new AuthenticationError('the token has no "sub" claim', 'invalid');
  }
  const subject = `oidc:${config.issuer}#${payload.sub}`;
  if (subject.length > 500) throw new AuthenticationError('the token\'s "sub" claim is too long', 'invalid');

  const tenants = [...new Set(stringsAt(payload, config.tenantClaim))].filter(
    (tenant) => TenantName.safeParse(tenant).success,
  );
  if (!tenants.length) {
    throw new AuthenticationError(`the token names no valid tenant (claim "${config.tenantClaim}")`, 'invalid');
  }
  const granted = new Set(stringsAt(payload, config.rolesClaim).filter((role) => Role.safeParse(role).success));
  const roles = knownRoles.filter((role) => granted.has(role));
  if (!roles.length) {
    throw new AuthenticationError(
      `the token grants none of the roles ${knownRoles.join(', ')} (claim "${config.rolesClaim}")`,
      'no-roles',
    );
  }

  let name = payload.sub;
  for (const claim of [config.nameClaim, ...NAME_FALLBACKS]) {
    const value = claimAt(payload, claim);
    if (typeof value === 'string' && value.trim()) {
      name = value.trim();
      break;
    }
  }
  return Principal.parse({ subject, name: name.slice(0, 200), tenants, roles, method: 'oidc' });
}
