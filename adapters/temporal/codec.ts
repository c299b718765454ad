import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { PayloadEncryptionConfig } from '../../config/codec';

/** The payload encoding of an encrypted payload, as the Temporal samples and other SDKs name it. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key a payload was encrypted with: any listed key decrypts, so rotation needs no rewrite. */
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/** A payload this codec cannot decrypt: an unknown key id, or ciphertext that fails authentication. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

/**
 * AES-256-GCM over the whole serialized payload (its metadata too, so even the original encoding is hidden).
 * data = nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes); the key id is authenticated as associated data,
 * so a payload relabelled with another key id fails instead of decrypting under the wrong name.
 * Payloads that are not `binary/encrypted` decode as they are (histories written before encryption was on).
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  /** Without keys (encryption off) it encodes nothing and refuses to decode encrypted payloads. */
  constructor(private readonly encryption: PayloadEncryptionConfig | undefined) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  encrypt(payload: Payload): Payload {
    if (!this.encryption) return payload;
    const keyId = this.encryption.activeKeyId;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.encryption.keys.get(keyId)!, nonce);
    cipher.setAAD(utf8(keyId));
    const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
    const sealed = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: utf8(keyId),
        [CIPHER_METADATA]: utf8(CIPHER),
      },
      data: sealed,
    };
  }

  decrypt(payload: Payload): Payload {
    if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    if (!keyId) throw new PayloadDecryptionError(`an encrypted payload has no ${KEY_ID_METADATA} metadata`);
    const key = this.encryption?.keys.get(keyId);
    if (!key) {
      throw new PayloadDecryptionError(
        this.encryption
          ? `payload encrypted with key "${keyId}", which is not in PAYLOAD_ENCRYPTION_KEYS (keep retired keys listed)`
          : `payload encrypted with key "${keyId}", but payload encryption is off here (PAYLOAD_ENCRYPTION_KEYS is unset)`,
      );
    }
    const data = Buffer.from(payload.data ?? []);
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new PayloadDecryptionError('an encrypted payload is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES));
    decipher.setAAD(utf8(keyId));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([
        decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PayloadDecryptionError(`payload failed authentication with key "${keyId}" (tampered, or another key)`);
    }
    const inner = temporal.api.common.v1.Payload.decode(plaintext);
    return { metadata: inner.metadata, data: inner.data };
  }
}
