/**
 * How authentication fails. Both messages are safe to show the client: they never echo a credential,
 * and say what to fix (or that it is not the caller's fault).
 */

export type AuthenticationFailure =
  'missing' | 'malformed' | 'expired' | 'invalid' | 'unknown-key' | 'revoked' | 'no-roles';

/** The credential was refused (the API answers 401). */
export class AuthenticationError extends Error {
  constructor(
    message: string,
    readonly reason: AuthenticationFailure,
  ) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

/**
 * The credential could not be checked because the identity provider (its discovery document or its
 * signing keys) did not answer properly: not the caller's fault, so the API answers 503, not 401.
 * `message` is generic; `detail` (and `cause`) say what went wrong, for the logs only.
 */
export class IdentityProviderUnavailable extends Error {
  constructor(
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super('the identity provider is unavailable; try again later', options);
    this.name = 'IdentityProviderUnavailable';
  }
}
