import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapsuleSigner } from '../../contracts/capsule';
import { keyIdOf } from '../../contracts/key-id';

// Capsule signing keys in a local directory (development, single-host deployments): one PKCS#8 PEM file
// per key, 0600, named after its key id, and `active` naming the one new capsules are signed with.
// Production deployments can put a KMS behind the same CapsuleSigner interface (docs/capsule-format.md).

const ACTIVE = 'active';
const fileOf = (dir: string, keyId: string) => join(dir, `${keyId.replace(':', '-')}.pem`);

/** A signer over an in-process ed25519 key. */
export function signerFromKey(privateKey: KeyObject): CapsuleSigner {
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: async (message) => sign(null, message, privateKey),
  };
}

/** A fresh key that lives as long as the process: tests and benchmarks. */
export function ephemeralSigner(): CapsuleSigner {
  return signerFromKey(generateKeyPairSync('ed25519').privateKey);
}

/**
 * The active key of `dir`. In development a missing directory or key is created (so a fresh clone signs
 * out of the box); in production a missing key stops start-up, since a generated one would not be shared.
 */
export function loadLocalSigner(dir: string, mode: 'development' | 'production'): CapsuleSigner {
  const active = readActive(dir);
  if (active) return signerFromKey(createPrivateKey(readFileSync(fileOf(dir, active), 'utf8')));
  if (mode === 'production') {
    throw new Error(
      `no capsule signing key in ${dir}: create one with \`npm run capsule-key -- rotate\` (QLP_ENV=production)`,
    );
  }
  // First start: a new key becomes active unless another process made one meanwhile (then theirs is read).
  createKey(dir, 'if-none');
  return loadLocalSigner(dir, mode);
}

/** Creates a new key and makes it the active one; earlier keys stay in the directory (and verifiable). */
export function rotateLocalKey(dir: string): CapsuleSigner {
  return createKey(dir, 'replace');
}

function createKey(dir: string, activate: 'replace' | 'if-none'): CapsuleSigner {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const signer = signerFromKey(privateKey);
  writeFileSync(fileOf(dir, signer.keyId), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
    flag: 'wx',
  });
  // Written whole, then put in place atomically: a starting worker reads the old id or the new one.
  const partial = join(dir, `${ACTIVE}.${process.pid}.${signer.keyId.slice(8, 16)}.tmp`);
  writeFileSync(partial, `${signer.keyId}\n`, { mode: 0o600 });
  try {
    if (activate === 'replace') renameSync(partial, join(dir, ACTIVE));
    else linkSync(partial, join(dir, ACTIVE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSafe(partial);
  }
  return signer;
}

/** Every key in the directory, active first: what a rotation keeps for verifying older capsules. */
export function localKeyIds(dir: string): string[] {
  const active = readActive(dir);
  const all = readdirSync(dir)
    .filter((name) => /^ed25519-[0-9a-f]{32}\.pem$/.test(name))
    .map((name) => name.slice(0, -4).replace('-', ':'));
  return [...(active ? [active] : []), ...all.filter((id) => id !== active).sort()];
}

function readActive(dir: string): string | undefined {
  try {
    const id = readFileSync(join(dir, ACTIVE), 'utf8').trim();
    if (!/^ed25519:[0-9a-f]{32}$/.test(id))
      throw new Error(`${join(dir, ACTIVE)} must name a key id (ed25519:<32 hex>)`);
    return id;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function unlinkSafe(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
