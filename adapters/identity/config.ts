import { z } from 'zod';
import type { Section, Subsection } from '../../config/setting';

/**
 * OIDC bearer-token settings from the environment. config/index.ts spreads `oidcEnvShape` into its schema
 * and calls `toOidcConfig`; each variable's documentation is declared here (config/setting.ts) and rendered
 * into .env.example. The verifier is adapters/identity/oidc.ts.
 */

/** Asymmetric JWS algorithms only: a JWKS publishes public keys, so HS* (shared secrets) and `none` are never accepted. */
export const oidcAlgorithms = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type OidcAlgorithm = (typeof oidcAlgorithms)[number];

export interface OidcConfig {
  /** Exactly as tokens carry it in `iss` (a trailing slash matters: Auth0's has one, Keycloak's does not). */
  issuer: string;
  /** A token's `aud` must contain one of these. */
  audience: string[];
  /** Unset: the `jwks_uri` of `<issuer>/.well-known/openid-configuration`, fetched once and cached. */
  jwksUrl?: string;
  /** Claim names, or dotted paths into nested claims (`realm_access.roles`); an exact top-level name wins. */
  rolesClaim: string;
  tenantClaim: string;
  /** Tried first for the display name, then `name`, `preferred_username`, `sub`. */
  nameClaim: string;
  clockToleranceSeconds: number;
  algorithms: OidcAlgorithm[];
}

const httpUrl = z.url({ protocol: /^https?$/ });
const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean),
);
const claimPath = z
  .string()
  .trim()
  .regex(/^[^.\s]+(\.[^.\s]+)*$/, 'must be a claim name or a dotted path such as realm_access.roles');

const authentication: Section = { title: 'Authentication' };
const oidc: Subsection = {
  parent: authentication,
  note: [
    "OIDC bearer tokens (Authorization: Bearer <JWT>), verified against the issuer's published keys (JWKS).",
    'Keycloak: AUTH_OIDC_ISSUER=https://<host>/realms/<realm>, AUTH_OIDC_ROLES_CLAIM=realm_access.roles.',
  ],
};

/** The OIDC variables, merged into config/index.ts's environment schema. */
export const oidcEnvShape = {
  AUTH_OIDC_ISSUER: httpUrl.optional().meta({
    section: oidc,
    doc: [
      'The issuer, exactly as its tokens write "iss" (use https outside a development machine).',
      'Unset: OIDC is off and only API keys authenticate.',
    ],
  }),
  AUTH_OIDC_AUDIENCE: commaList.pipe(z.array(z.string()).min(1, 'must name at least one')).optional().meta({
    section: oidc,
    doc: 'Required with an issuer: the "aud" this API accepts (the client id or API identifier); comma-separated for several.',
  }),
  AUTH_OIDC_JWKS_URL: httpUrl.optional().meta({
    section: oidc,
    doc: 'The signing keys; unset: the jwks_uri of <issuer>/.well-known/openid-configuration.',
  }),
  AUTH_OIDC_ROLES_CLAIM: claimPath.prefault('roles').meta({
    section: oidc,
    doc: [
      'Claims holding the roles (submitter, approver, auditor, admin; others are ignored) and the tenants',
      '(a string or an array of strings); a dotted path reaches into nested claims (realm_access.roles).',
    ],
  }),
  AUTH_OIDC_TENANT_CLAIM: claimPath.prefault('tenants').meta({ section: oidc }),
  AUTH_OIDC_NAME_CLAIM: claimPath.prefault('email').meta({
    section: oidc,
    doc: 'The display name (audit trail, approvals); when absent: name, preferred_username, then sub.',
  }),
  AUTH_OIDC_CLOCK_TOLERANCE: z.coerce.number().int().min(0).max(300).prefault('30').meta({
    section: oidc,
    doc: 'Seconds of clock skew allowed when checking "exp" and "nbf".',
  }),
  AUTH_OIDC_ALGORITHMS: commaList
    .pipe(
      z
        .array(z.enum(oidcAlgorithms, { error: `each must be one of ${oidcAlgorithms.join(', ')}` }))
        .min(1, 'must name at least one'),
    )
    .prefault('RS256,ES256,EdDSA')
    .meta({ section: oidc, doc: 'Accepted signing algorithms (asymmetric only), comma-separated.' }),
};

/** The OIDC variables alone (tests, tools); config/index.ts uses the shape. */
export const oidcEnvSchema = z.object(oidcEnvShape);
export type OidcEnv = z.infer<typeof oidcEnvSchema>;

export type OidcConfigResult = { config: OidcConfig | undefined } | { issues: { variable: string; reason: string }[] };

/** The verifier's settings; `config: undefined` when no issuer is set (OIDC off). Missing pieces are issues naming the variable. */
export function toOidcConfig(env: OidcEnv): OidcConfigResult {
  const issuer = env.AUTH_OIDC_ISSUER;
  if (issuer === undefined) {
    const stray = (['AUTH_OIDC_AUDIENCE', 'AUTH_OIDC_JWKS_URL'] as const).filter((name) => env[name] !== undefined);
    if (stray.length) {
      return { issues: [{ variable: 'AUTH_OIDC_ISSUER', reason: `is required when ${stray.join(' or ')} is set` }] };
    }
    return { config: undefined };
  }
  if (env.AUTH_OIDC_AUDIENCE === undefined) {
    return { issues: [{ variable: 'AUTH_OIDC_AUDIENCE', reason: 'is required when AUTH_OIDC_ISSUER is set' }] };
  }
  return {
    config: {
      issuer,
      audience: [...new Set(env.AUTH_OIDC_AUDIENCE)],
      jwksUrl: env.AUTH_OIDC_JWKS_URL,
      rolesClaim: env.AUTH_OIDC_ROLES_CLAIM,
      tenantClaim: env.AUTH_OIDC_TENANT_CLAIM,
      nameClaim: env.AUTH_OIDC_NAME_CLAIM,
      clockToleranceSeconds: env.AUTH_OIDC_CLOCK_TOLERANCE,
      algorithms: [...new Set(env.AUTH_OIDC_ALGORITHMS)],
    },
  };
}
