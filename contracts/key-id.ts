import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** `ed25519:` and 32 hex digits of sha256 over the key's SPKI DER: stable for a key, whatever its PEM spelling. */
export function keyIdOf(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const der = key.export({ type: 'spki', format: 'der' });
  return `ed25519:${createHash('sha256').update(der).digest('hex').slice(0, 32)}`;
}
