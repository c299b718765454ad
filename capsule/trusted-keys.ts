import { createPublicKey, type KeyObject } from 'node:crypto';
import { keyIdOf } from './dsse';

// The public keys a verifier trusts, from what a user has at hand: GET /api/v1/signing-keys's body,
// a list of PEMs, or a PEM file's text. Each id is recomputed from the key, never taken on trust.

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** keyId → SPKI PEM (as node exports it: one spelling per key) of every ed25519 public key in `json`; throws, saying which, when one is not usable. */
export function trustedKeysFrom(json: unknown): Map<string, string> {
  const keys = new Map<string, string>();
  for (const { pem, keyId, where } of candidatesOf(json)) {
    const key = publicKeyOf(pem, where);
    const id = keyIdOf(key);
    if (keyId !== undefined && keyId !== id) throw new Error(`${where} is listed as ${keyId} but its key is ${id}`);
    keys.set(id, key.export({ type: 'spki', format: 'pem' }).toString());
  }
  return keys;
}

interface Candidate {
  pem: string;
  keyId?: string;
  where: string;
}

function candidatesOf(json: unknown): Candidate[] {
  if (typeof json === 'string') return pemBlocks(json, 'the PEM text');
  if (Array.isArray(json)) return json.flatMap((item: unknown, index) => itemOf(item, `key ${index + 1}`));
  if (json && typeof json === 'object' && Array.isArray((json as { keys?: unknown }).keys)) {
    return (json as { keys: unknown[] }).keys.map((item, index) => keyView(item, `keys[${index}]`));
  }
  throw new Error('expected the body of GET /api/v1/signing-keys ({"keys": [...]}), a list of PEMs, or PEM text');
}

function itemOf(item: unknown, where: string): Candidate[] {
  if (typeof item === 'string') return pemBlocks(item, where);
  if (item && typeof item === 'object') return [keyView(item, where)];
  throw new Error(`${where} is neither a PEM nor a signing key`);
}

function keyView(item: unknown, where: string): Candidate {
  const { publicKeyPem, keyId, algorithm } = (item ?? {}) as Record<string, unknown>;
  if (typeof publicKeyPem !== 'string') throw new Error(`${where} has no publicKeyPem`);
  if (algorithm !== undefined && algorithm !== 'ed25519') throw new Error(`${where} is not an ed25519 key`);
  if (keyId !== undefined && typeof keyId !== 'string') throw new Error(`${where} has a keyId that is not a string`);
  return { pem: publicKeyPem, where, ...(keyId !== undefined && { keyId }) };
}

function pemBlocks(text: string, where: string): Candidate[] {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw new Error(`${where} holds no PEM block`);
  return blocks.map(([pem, label], index) => {
    const named = blocks.length > 1 ? `${where} (block ${index + 1})` : where;
    // A private key would work (its public half is derivable), but it has no business being handed around.
    if (label?.includes('PRIVATE')) throw new Error(`${named} is a private key: give the public key`);
    return { pem, where: named };
  });
}

function publicKeyOf(pem: string, where: string): KeyObject {
  let key;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new Error(`${where} is not a public key in PEM form (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${where} is a ${key.asymmetricKeyType} key, not ed25519`);
  return key;
}
