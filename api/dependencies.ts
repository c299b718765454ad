import type { Client } from '@temporalio/client';
import type { Database } from '../adapters/db/client';
import { createOidcVerifier } from '../adapters/identity/oidc';
import { loadSigningKey, type SigningKey } from '../adapters/identity/signing-key';
import type { ObjectStore } from '../adapters/storage/s3';
import type { Config } from '../config';
import type { Principal } from '../contracts/identity';

export interface ApiDependencies {
  config: Config;
  db: Database;
  temporal: Client;
  store: ObjectStore;
  /** Signs the decisions of authenticated approvers; workflows verify them with its public key. */
  signingKey: SigningKey;
  /** Verifies OIDC bearer tokens, when an issuer is configured. */
  oidc?: { verify(token: string): Promise<Principal> };
}

/** The API's dependencies beyond its connections: the approval signing key and, if configured, the OIDC verifier. */
export function apiDependencies(
  connections: Pick<ApiDependencies, 'config' | 'db' | 'temporal' | 'store'>,
): ApiDependencies {
  const { config } = connections;
  return {
    ...connections,
    signingKey: loadSigningKey(config.security),
    ...(config.oidc && { oidc: createOidcVerifier(config.oidc) }),
  };
}
