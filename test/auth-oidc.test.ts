import { SignJWT, base64url } from 'jose';
import {
  AuthenticationError,
  IdentityProviderUnavailable,
  type AuthenticationFailure,
} from '../adapters/identity/errors';
import { createOidcVerifier, type OidcVerifierOptions } from '../adapters/identity/oidc';
import { oidcEnvSchema, toOidcConfig, type OidcConfig } from '../adapters/identity/config';
import { startOidcIssuer, type OidcIssuer } from './support/oidc-issuer';

// OIDC bearer tokens against a real issuer: a local HTTP server publishing its discovery document and
// JWKS, signing tokens with its own keys. Nothing of the verifier is mocked; it fetches keys over HTTP.
// Needs no Temporal and no database.

const AUDIENCE = 'qlp-api';
const env = oidcEnvSchema;
const now = () => Math.floor(Date.now() / 1000);

let idp: OidcIssuer;

beforeAll(async () => {
  idp = await startOidcIssuer();
});
afterAll(() => idp.close());

/** Config as the environment gives it (defaults included), pointing at `issuer`. */
function configFor(issuer: OidcIssuer, vars: Record<string, string> = {}): OidcConfig {
  const result = toOidcConfig(env.parse({ AUTH_OIDC_ISSUER: issuer.issuer, AUTH_OIDC_AUDIENCE: AUDIENCE, ...vars }));
  if ('issues' in result || !result.config) throw new Error(`unexpected config result ${JSON.stringify(result)}`);
  return result.config;
}

const verifierFor = (vars: Record<string, string> = {}, options?: OidcVerifierOptions) =>
  createOidcVerifier(configFor(idp, vars), options);

const claims = (extra: Record<string, unknown> = {}) => ({
  sub: 'user-1',
  aud: AUDIENCE,
  email: 'ada@example.com',
  roles: ['submitter', 'approver', 'offline_access'],
  tenants: ['acme'],
  ...extra,
});

/** The refusal of `token`: its reason and message, which must never quote the token. */
async function refusal(
  verify: Promise<unknown>,
  token: string,
): Promise<{ reason: AuthenticationFailure; message: string }> {
  const error = await verify.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof AuthenticationError)) throw new Error(`expected an AuthenticationError, got ${String(error)}`);
  if (token.length > 8) expect(error.message).not.toContain(token);
  for (const part of token.split('.').filter((segment) => segment.length > 8)) {
    expect(error.message).not.toContain(part);
  }
  return { reason: error.reason, message: error.message };
}

describe('toOidcConfig', () => {
  test('no issuer: OIDC is off', () => {
    expect(toOidcConfig(env.parse({}))).toEqual({ config: undefined });
  });

  test('an issuer without an audience is an issue naming AUTH_OIDC_AUDIENCE', () => {
    expect(toOidcConfig(env.parse({ AUTH_OIDC_ISSUER: 'https://idp.example.com/realms/qlp' }))).toEqual({
      issues: [{ variable: 'AUTH_OIDC_AUDIENCE', reason: 'is required when AUTH_OIDC_ISSUER is set' }],
    });
  });

  test('an audience or JWKS URL without an issuer is an issue naming AUTH_OIDC_ISSUER', () => {
    expect(toOidcConfig(env.parse({ AUTH_OIDC_AUDIENCE: 'qlp' }))).toEqual({
      issues: [{ variable: 'AUTH_OIDC_ISSUER', reason: 'is required when AUTH_OIDC_AUDIENCE is set' }],
    });
  });

  test('defaults, and lists written comma-separated', () => {
    expect(
      toOidcConfig(
        env.parse({ AUTH_OIDC_ISSUER: 'https://tenant.auth0.com/', AUTH_OIDC_AUDIENCE: 'qlp, https://qlp.api' }),
      ),
    ).toEqual({
      config: {
        issuer: 'https://tenant.auth0.com/',
        audience: ['qlp', 'https://qlp.api'],
        jwksUrl: undefined,
        rolesClaim: 'roles',
        tenantClaim: 'tenants',
        nameClaim: 'email',
        clockToleranceSeconds: 30,
        algorithms: ['RS256', 'ES256', 'EdDSA'],
      },
    });
  });

  test('symmetric algorithms, none, bad claim paths and bad tolerances are refused', () => {
    const issues = (vars: Record<string, string>) =>
      env.safeParse({ AUTH_OIDC_ISSUER: 'https://idp.example.com', AUTH_OIDC_AUDIENCE: 'qlp', ...vars }).error?.issues;
    expect(issues({ AUTH_OIDC_ALGORITHMS: 'RS256,HS256' })?.[0]?.message).toMatch(/each must be one of RS256/);
    expect(issues({ AUTH_OIDC_ALGORITHMS: 'none' })?.[0]?.path[0]).toBe('AUTH_OIDC_ALGORITHMS');
    expect(issues({ AUTH_OIDC_ROLES_CLAIM: 'realm_access..roles' })?.[0]?.message).toMatch(/dotted path/);
    expect(issues({ AUTH_OIDC_CLOCK_TOLERANCE: '-1' })?.[0]?.path[0]).toBe('AUTH_OIDC_CLOCK_TOLERANCE');
    expect(issues({ AUTH_OIDC_ISSUER: 'ftp://idp.example.com' })?.[0]?.path[0]).toBe('AUTH_OIDC_ISSUER');
    expect(issues({})).toBeUndefined();
  });
});

describe('valid tokens', () => {
  test('a valid token is a Principal: subject from iss and sub, known roles only, tenants, name from email', async () => {
    const discoveries = idp.requests.discovery;
    const verifier = verifierFor();
    const principal = await verifier.verify(await idp.sign(claims()));
    expect(principal).toEqual({
      subject: `oidc:${idp.issuer}#user-1`,
      name: 'ada@example.com',
      tenants: ['acme'],
      roles: ['submitter', 'approver'],
      method: 'oidc',
    });
    // The discovery document (jwks_uri) is fetched once, then cached.
    await verifier.verify(await idp.sign(claims({ sub: 'user-2' })));
    expect(idp.requests.discovery).toBe(discoveries + 1);
  });

  test('Keycloak-style claims: dotted roles path, a single tenant string, preferred_username', async () => {
    const verifier = verifierFor({
      AUTH_OIDC_ROLES_CLAIM: 'realm_access.roles',
      AUTH_OIDC_TENANT_CLAIM: 'qlp.tenant',
      AUTH_OIDC_NAME_CLAIM: 'preferred_username',
      AUTH_OIDC_JWKS_URL: idp.jwksUrl,
    });
    const token = await idp.sign({
      sub: 'f4c1e2d3',
      aud: ['account', AUDIENCE],
      preferred_username: 'grace',
      realm_access: { roles: ['default-roles-qlp', 'auditor', 'admin'] },
      qlp: { tenant: 'globex' },
    });
    expect(await verifier.verify(token)).toEqual({
      subject: `oidc:${idp.issuer}#f4c1e2d3`,
      name: 'grace',
      tenants: ['globex'],
      roles: ['auditor', 'admin'],
      method: 'oidc',
    });
  });

  test('a namespaced claim whose name has dots is read by its exact name (Auth0)', async () => {
    const verifier = verifierFor({
      AUTH_OIDC_ROLES_CLAIM: 'https://qlp.example.com/roles',
      AUTH_OIDC_TENANT_CLAIM: 'https://qlp.example.com/tenants',
    });
    const token = await idp.sign({
      sub: 'auth0|42',
      aud: AUDIENCE,
      'https://qlp.example.com/roles': ['approver'],
      'https://qlp.example.com/tenants': ['acme', 'initech', 'NOT A TENANT'],
    });
    const principal = await verifier.verify(token);
    expect(principal).toMatchObject({ roles: ['approver'], tenants: ['acme', 'initech'] });
  });

  test('the name falls back to name, preferred_username, then sub', async () => {
    const verifier = verifierFor();
    const nameOf = async (extra: Record<string, unknown>) =>
      (await verifier.verify(await idp.sign({ ...claims(), email: undefined, ...extra }))).name;
    expect(await nameOf({ name: 'Ada Lovelace', preferred_username: 'ada' })).toBe('Ada Lovelace');
    expect(await nameOf({ preferred_username: 'ada' })).toBe('ada');
    expect(await nameOf({})).toBe('user-1');
  });

  test('within the clock tolerance: recently expired and almost valid tokens are accepted', async () => {
    const verifier = verifierFor({ AUTH_OIDC_CLOCK_TOLERANCE: '30' });
    await expect(verifier.verify(await idp.sign(claims({ exp: now() - 10 })))).resolves.toMatchObject({
      name: 'ada@example.com',
    });
    await expect(verifier.verify(await idp.sign(claims({ nbf: now() + 10 })))).resolves.toMatchObject({
      name: 'ada@example.com',
    });
  });

  test('ES256 tokens verify too, and a token without kid is matched by its algorithm', async () => {
    const verifier = verifierFor();
    const token = await idp.sign(claims(), { key: 'es256', kid: false });
    await expect(verifier.verify(token)).resolves.toMatchObject({ roles: ['submitter', 'approver'] });
  });
});

describe('refused tokens', () => {
  const verifier = () => verifierFor();

  test.each([
    ['wrong audience', { aud: 'someone-else' }, 'invalid', /not meant for this API/],
    ['no audience', { aud: undefined }, 'invalid', /"aud"/],
    [
      'wrong issuer',
      { iss: 'http://127.0.0.1:1/elsewhere' },
      'invalid',
      /not issued by the accepted identity provider/,
    ],
    ['expired beyond the tolerance', { exp: now() - 120 }, 'expired', /has expired/],
    ['not valid yet', { nbf: now() + 600 }, 'invalid', /not valid yet/],
    ['no sub', { sub: undefined }, 'invalid', /"sub"/],
    ['no tenant claim', { tenants: undefined }, 'invalid', /no valid tenant \(claim "tenants"\)/],
    ['only invalid tenant names', { tenants: ['Acme Corp', '../x'] }, 'invalid', /no valid tenant/],
    ['no known roles', { roles: ['offline_access', 'Admin'] }, 'no-roles', /none of the roles/],
    ['no roles claim', { roles: undefined }, 'no-roles', /claim "roles"/],
  ] as const)('%s', async (_case, extra, reason, message) => {
    const token = await idp.sign(claims(extra));
    expect(await refusal(verifier().verify(token), token)).toEqual({ reason, message: expect.stringMatching(message) });
  });

  test('no exp claim', async () => {
    const token = await idp.sign(claims(), { expiresIn: null });
    expect(await refusal(verifier().verify(token), token)).toEqual({
      reason: 'invalid',
      message: 'the token has no "exp" claim',
    });
  });

  test('signed by a rogue key: unknown kid, or forging the published kid', async () => {
    const unknownKid = await idp.sign(claims(), { key: 'rogue' });
    expect((await refusal(verifier().verify(unknownKid), unknownKid)).reason).toBe('unknown-key');
    const forgedKid = await idp.sign(claims(), { key: 'rogue', kid: idp.kid });
    expect(await refusal(verifier().verify(forgedKid), forgedKid)).toEqual({
      reason: 'invalid',
      message: 'the token signature does not verify',
    });
  });

  test('alg none and HS256 (also keyed with the public key) are refused', async () => {
    const header = (alg: string) => base64url.encode(JSON.stringify({ alg, typ: 'JWT', kid: idp.kid }));
    const payload = base64url.encode(JSON.stringify({ ...claims(), iss: idp.issuer, exp: now() + 300 }));
    const unsigned = `${header('none')}.${payload}.`;
    expect((await refusal(verifier().verify(unsigned), unsigned)).reason).toBe('invalid');

    const jwks = (await (await fetch(idp.jwksUrl)).json()) as { keys: { kid: string }[] };
    const publicJwk = new TextEncoder().encode(JSON.stringify(jwks.keys.find((key) => key.kid === idp.kid)));
    for (const secret of [new TextEncoder().encode('a-shared-secret-of-32-bytes-long!'), publicJwk]) {
      const hs256 = await new SignJWT({ ...claims(), iss: idp.issuer })
        .setProtectedHeader({ alg: 'HS256', kid: idp.kid })
        .setExpirationTime('5m')
        .sign(secret);
      expect(await refusal(verifier().verify(hs256), hs256)).toEqual({
        reason: 'invalid',
        message: "the token's signing algorithm is not accepted (accepted: RS256, ES256, EdDSA)",
      });
    }
  });

  test('an algorithm the config does not list is refused', async () => {
    const token = await idp.sign(claims(), { key: 'es256' });
    const refused = await refusal(verifierFor({ AUTH_OIDC_ALGORITHMS: 'RS256' }).verify(token), token);
    expect(refused).toEqual({ reason: 'invalid', message: expect.stringMatching(/accepted: RS256\)$/) });
  });

  test('garbage, a tampered payload, an empty and an oversized token', async () => {
    for (const garbage of ['not-a-jwt', 'a.b.c', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0', '...']) {
      expect((await refusal(verifier().verify(garbage), garbage)).reason).toBe('malformed');
    }
    const [head, , signature] = (await idp.sign(claims())).split('.');
    const tampered = `${head}.${base64url.encode(JSON.stringify({ ...claims({ roles: ['admin'] }), iss: idp.issuer, exp: now() + 300 }))}.${signature}`;
    expect((await refusal(verifier().verify(tampered), tampered)).reason).toBe('invalid');
    expect(await refusal(verifier().verify(''), '')).toEqual({ reason: 'missing', message: 'no bearer token' });
    const huge = `${'a'.repeat(20_000)}.b.c`;
    expect((await refusal(verifier().verify(huge), huge)).reason).toBe('malformed');
  });
});

describe('keys over time', () => {
  test('key rotation: a token with the new kid verifies (the JWKS is refetched), the old key still does', async () => {
    const issuer = await startOidcIssuer({ path: '/realms/rotation' });
    try {
      const verifier = createOidcVerifier(configFor(issuer), { jwksCooldownMs: 0 });
      const before = await issuer.sign(claims());
      await verifier.verify(before);
      expect(issuer.requests.jwks).toBe(1);

      const { kid } = await issuer.rotate();
      const after = await issuer.sign(claims({ sub: 'user-after' }));
      await expect(verifier.verify(after)).resolves.toMatchObject({ subject: `oidc:${issuer.issuer}#user-after` });
      expect(issuer.requests.jwks).toBe(2);
      expect(kid).toBe(issuer.kid);
      await expect(verifier.verify(before)).resolves.toMatchObject({ subject: `oidc:${issuer.issuer}#user-1` });

      // Two RSA keys published and no kid in the token: each candidate is tried.
      const noKid = await issuer.sign(claims(), { kid: false });
      await expect(verifier.verify(noKid)).resolves.toMatchObject({ roles: ['submitter', 'approver'] });
    } finally {
      await issuer.close();
    }
  });

  test('a token signed with a key the issuer retired is refused once the JWKS is refetched', async () => {
    const issuer = await startOidcIssuer();
    try {
      const signedBefore = await issuer.sign(claims());
      await issuer.rotate({ retire: true });
      const verifier = createOidcVerifier(configFor(issuer), { jwksCooldownMs: 0 });
      expect(await refusal(verifier.verify(signedBefore), signedBefore)).toEqual({
        reason: 'unknown-key',
        message: 'the token is signed with a key the identity provider does not publish',
      });
    } finally {
      await issuer.close();
    }
  });

  test('unknown kids cannot make the verifier hammer the issuer (one refetch per cooldown)', async () => {
    const issuer = await startOidcIssuer();
    try {
      const verifier = createOidcVerifier(configFor(issuer));
      await verifier.verify(await issuer.sign(claims()));
      for (let i = 0; i < 10; i++) {
        const forged = await issuer.sign(claims(), { key: 'rogue', kid: `forged-${i}` });
        expect((await refusal(verifier.verify(forged), forged)).reason).toBe('unknown-key');
      }
      expect(issuer.requests.jwks).toBe(1);
    } finally {
      await issuer.close();
    }
  });
});

describe('issuer unavailable', () => {
  const unavailable = async (verify: Promise<unknown>) => {
    const error = await verify.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(IdentityProviderUnavailable);
    expect(error).not.toBeInstanceOf(AuthenticationError);
    return error as IdentityProviderUnavailable;
  };

  test('issuer down: discovery and JWKS fetch failures are IdentityProviderUnavailable, not a refusal', async () => {
    const issuer = await startOidcIssuer();
    const token = await issuer.sign(claims());
    const viaDiscovery = createOidcVerifier(configFor(issuer));
    const viaJwksUrl = createOidcVerifier(configFor(issuer, { AUTH_OIDC_JWKS_URL: issuer.jwksUrl }));
    await issuer.close();

    const error = await unavailable(viaDiscovery.verify(token));
    expect(error.message).toBe('the identity provider is unavailable; try again later');
    expect(error.detail).toMatch(/OIDC discovery http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration failed/);
    expect((await unavailable(viaJwksUrl.verify(token))).detail).toMatch(/fetching the OIDC signing keys failed/);
  });

  test('an issuer answering 500 is unavailable; once it recovers, tokens verify (failures are not cached)', async () => {
    const issuer = await startOidcIssuer();
    try {
      const token = await issuer.sign(claims());
      const verifier = createOidcVerifier(configFor(issuer));
      issuer.failWith(500);
      expect((await unavailable(verifier.verify(token))).detail).toMatch(/HTTP 500/);
      issuer.failWith(undefined);
      await expect(verifier.verify(token)).resolves.toMatchObject({ method: 'oidc' });

      // Keys already fetched keep verifying while the issuer is down; an unknown kid cannot be decided.
      issuer.failWith(503);
      await expect(verifier.verify(await issuer.sign(claims({ sub: 'cached' })))).resolves.toMatchObject({
        subject: `oidc:${issuer.issuer}#cached`,
      });
    } finally {
      await issuer.close();
    }
  });

  test('an unknown kid while the issuer is down is unavailable, not unknown-key', async () => {
    const issuer = await startOidcIssuer();
    try {
      const verifier = createOidcVerifier(configFor(issuer), { jwksCooldownMs: 0 });
      await verifier.verify(await issuer.sign(claims()));
      await issuer.rotate();
      issuer.failWith(502);
      const detail = (await unavailable(verifier.verify(await issuer.sign(claims())))).detail;
      expect(detail).toMatch(/fetching the OIDC signing keys failed: Expected 200 OK/);
    } finally {
      await issuer.close();
    }
  });

  test('a discovery document naming another issuer is refused as a misconfiguration (503)', async () => {
    const verifier = createOidcVerifier(configFor(idp, { AUTH_OIDC_ISSUER: `${idp.issuer}/` }));
    const token = await idp.sign(claims({ iss: `${idp.issuer}/` }));
    expect((await unavailable(verifier.verify(token))).detail).toMatch(/names issuer .* not AUTH_OIDC_ISSUER/);
  });
});
