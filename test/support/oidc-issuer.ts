import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type KeyLike } from 'jose';

/**
 * A real, local OIDC issuer for tests: an HTTP server publishing a discovery document and a JWKS, and
 * signing tokens with its keys. No mock of any verifier: tests verify its tokens over HTTP as they would
 * a Keycloak's or an Auth0's.
 *
 *   GET <issuer>/.well-known/openid-configuration   → { issuer, jwks_uri, … }
 *   GET <issuer>/jwks.json                          → { keys: [current RS256 key, retired keys…, ES256 key] }
 */

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyLike;
  jwk: JWK;
}

export interface SignOptions {
  /** jose's form ('5m', '-1h') or seconds from now; default '5m'; null: no `exp` claim. */
  expiresIn?: string | number | null;
  /** Overrides the `kid` header; false: no `kid` header at all. */
  kid?: string | false;
  /** 'rogue': a key the JWKS does not publish (forged tokens); 'es256': the published EC key. Default: the current RSA key. */
  key?: 'rogue' | 'es256';
}

export interface OidcIssuer {
  /** The `iss` of its tokens, e.g. http://127.0.0.1:43210 (or with the `path` it was started with). */
  issuer: string;
  jwksUrl: string;
  /** Signs `claims` (iss, iat and exp are filled in unless given). */
  sign(claims: JWTPayload, options?: SignOptions): Promise<string>;
  /** A new current RSA key; the old one stays published unless `retire`, as real issuers do for a while. */
  rotate(options?: { retire?: boolean }): Promise<{ kid: string }>;
  /** The current RSA key's kid. */
  readonly kid: string;
  /** How often each document was fetched. */
  readonly requests: { discovery: number; jwks: number };
  /** Answer every request with this status (e.g. 500) until called with undefined. */
  failWith(status: number | undefined): void;
  close(): Promise<void>;
}

let serial = 0;

async function newKey(alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const kid = `test-${alg.toLowerCase()}-${++serial}`;
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export async function startOidcIssuer(options: { port?: number; path?: string } = {}): Promise<OidcIssuer> {
  const path = (options.path ?? '').replace(/\/+$/, '');
  let current = await newKey('RS256');
  let retired: SigningKey[] = [];
  const ec = await newKey('ES256');
  const rogue = await newKey('RS256');
  const requests = { discovery: 0, jwks: 0 };
  let failure: number | undefined;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (failure !== undefined) return send(res, failure, { error: 'unavailable' });
    if (req.method === 'GET' && req.url === `${path}/.well-known/openid-configuration`) {
      requests.discovery++;
      return send(res, 200, {
        issuer,
        jwks_uri: jwksUrl,
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        subject_types_supported: ['public'],
        response_types_supported: ['code'],
      });
    }
    if (req.method === 'GET' && req.url === `${path}/jwks.json`) {
      requests.jwks++;
      return send(res, 200, { keys: [current, ...retired, ec].map((key) => key.jwk) });
    }
    send(res, 404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${origin}${path}`;
  const jwksUrl = `${issuer}/jwks.json`;

  return {
    issuer,
    jwksUrl,
    requests,
    get kid() {
      return current.kid;
    },
    async sign(claims, signOptions = {}) {
      const key = signOptions.key === 'rogue' ? rogue : signOptions.key === 'es256' ? ec : current;
      const kid = signOptions.kid === undefined ? key.kid : signOptions.kid || undefined;
      const jwt = new SignJWT({ iss: issuer, ...claims }).setProtectedHeader({ alg: key.alg, typ: 'JWT', kid });
      if (claims.iat === undefined) jwt.setIssuedAt();
      const expiresIn = signOptions.expiresIn === undefined ? '5m' : signOptions.expiresIn;
      if (claims.exp === undefined && expiresIn !== null) {
        jwt.setExpirationTime(typeof expiresIn === 'number' ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn);
      }
      return jwt.sign(key.privateKey);
    },
    async rotate(rotateOptions = {}) {
      retired = rotateOptions.retire ? [] : [current, ...retired];
      current = await newKey('RS256');
      return { kid: current.kid };
    },
    failWith(status) {
      failure = status;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections (jose's and fetch's agents) would otherwise hold the server open.
        server.closeAllConnections();
      });
    },
  };
}
