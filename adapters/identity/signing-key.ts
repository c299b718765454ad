import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { publicKeyHex } from '../../contracts/approval';
import type { SecurityConfig } from '../../config/security';

export interface SigningKey {
  privateKey: Uint8Array;
  /** Given to every workflow the API starts: the gate trusts decisions signed with this key. */
  publicKeyHex: string;
}

/**
 * The API's approval signing key: from APPROVAL_SIGNING_KEY, else its file. In development a missing
 * file is created (0600), so local stacks work out of the box and keep their key across restarts; in
 * production a missing key stops start-up, since a generated one would not be shared by other API replicas.
 */
export function loadSigningKey(config: SecurityConfig): SigningKey {
  const fromHex = (hex: string) => {
    const privateKey = Uint8Array.from(Buffer.from(hex, 'hex'));
    return { privateKey, publicKeyHex: publicKeyHex(privateKey) };
  };
  if (config.signingKey.hex) return fromHex(config.signingKey.hex);
  const { file } = config.signingKey;
  try {
    const hex = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${file} must hold 64 hex digits (an ed25519 key seed)`);
    return fromHex(hex);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (config.mode === 'production') {
      throw new Error(`no approval signing key: set APPROVAL_SIGNING_KEY or create ${file} (QLP_ENV=production)`);
    }
    mkdirSync(dirname(file), { recursive: true });
    const hex = randomBytes(32).toString('hex');
    // Written whole to a private file, then linked into place: a process starting at the same moment
    // sees no file or the complete key, never a half-written one; the first link wins, and we read it.
    const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(partial, `${hex}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(partial, file);
    } catch (raced) {
      if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
      return loadSigningKey(config);
    } finally {
      unlinkSync(partial);
    }
    return fromHex(hex);
  }
}
