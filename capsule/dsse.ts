import { createPublicKey, verify } from 'node:crypto';
import type { CapsuleSigner, DsseEnvelope } from '../contracts/capsule';
import { keyIdOf } from '../contracts/key-id';

export { keyIdOf };

// Dead Simple Signing Envelope v1 (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md):
// the signature covers the payload type and the payload's exact bytes, never a re-serialisation.

/** DSSE's pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

export async function signEnvelope(signer: CapsuleSigner, payloadType: string, payload: Buffer): Promise<DsseEnvelope> {
  const sig = await signer.sign(pae(payloadType, payload));
  return {
    payloadType,
    payload: payload.toString('base64'),
    signatures: [{ keyid: signer.keyId, sig: Buffer.from(sig).toString('base64') }],
  };
}

export type EnvelopeCheck =
  { ok: true; keyIds: string[]; payload: Buffer } | { ok: false; reason: string; payload?: Buffer };

/**
 * Checks an envelope against trusted public keys (keyId → PEM): the payload type must be the expected
 * one and at least one signature must verify with a trusted key; signatures by unknown keys are ignored.
 */
export function verifyEnvelope(
  envelope: DsseEnvelope,
  expectedType: string,
  trusted: ReadonlyMap<string, string>,
): EnvelopeCheck {
  const payload = Buffer.from(envelope.payload, 'base64');
  if (envelope.payloadType !== expectedType) {
    return {
      ok: false,
      reason: `payload type is ${JSON.stringify(envelope.payloadType)}, not ${expectedType}`,
      payload,
    };
  }
  const message = pae(envelope.payloadType, payload);
  const keyIds: string[] = [];
  const refused: string[] = [];
  for (const { keyid, sig } of envelope.signatures) {
    const pem = trusted.get(keyid);
    if (!pem) {
      refused.push(`${keyid} is not a trusted key`);
      continue;
    }
    const key = createPublicKey(pem);
    if (keyIdOf(key) !== keyid) refused.push(`${keyid} does not name the key given for it`);
    else if (verify(null, message, key, Buffer.from(sig, 'base64'))) keyIds.push(keyid);
    else refused.push(`the signature by ${keyid} does not match`);
  }
  return keyIds.length > 0 ? { ok: true, keyIds, payload } : { ok: false, reason: refused.join('; '), payload };
}
