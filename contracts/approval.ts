import { ed25519 } from '@noble/curves/ed25519';
import { z } from 'zod';
import { AuthMethod, Role, TenantName } from './identity';
import { text } from './text';
import { ChangeRequest, DecisionKind, PlanEdit } from './decision';

// Signed decisions. The API, having authenticated an approver, signs what they decided and what they
// reviewed (ed25519); the workflow verifies the signature with the public keys in its own input, so a
// decision that reaches it by any path (the API's update, a `decision` signal from the Temporal CLI or
// Web UI) counts only if the API vouched for who sent it. Pure code: it runs inside workflows.

/** The claims of a signed decision: who, what, for which intent and which reviewed content, until when. */
export const DecisionClaims = z.object({
  v: z.literal(1),
  intentId: z.uuid(),
  decision: DecisionKind,
  reason: text({ max: 2000, min: 0 }).optional(),
  /** Which gate the decision is for (absent: the release gate, as before plan gates existed). */
  gate: z.enum(['plan', 'release']).optional(),
  changes: z.array(ChangeRequest).max(50).optional(),
  planEdit: PlanEdit.optional(),
  /** The review digest the approver saw (files and validation report); a stale one is refused. */
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  principal: z.object({
    subject: z.string().min(1).max(500),
    name: z.string().min(1).max(200),
    roles: z.array(Role),
    tenants: z.array(TenantName).min(1),
    method: AuthMethod,
  }),
  issuedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
});
export type DecisionClaims = z.infer<typeof DecisionClaims>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The token: base64url(claims JSON) "." base64url(ed25519 signature over the first part's bytes). */
export function signDecision(claims: DecisionClaims, privateKey: Uint8Array): string {
  const body = toBase64Url(encoder.encode(JSON.stringify(claims)));
  return `${body}.${toBase64Url(ed25519.sign(encoder.encode(body), privateKey))}`;
}

export type VerifiedDecision = { ok: true; claims: DecisionClaims } | { ok: false; reason: string };

/** Checks the signature against any of `publicKeysHex` and the claims' shape; intent, digest and time are the caller's. */
export function verifyDecisionToken(token: unknown, publicKeysHex: readonly string[]): VerifiedDecision {
  if (typeof token !== 'string' || token.length > 16_384) return { ok: false, reason: 'token must be a string' };
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) return { ok: false, reason: 'token is not <claims>.<signature>' };
  let sig: Uint8Array;
  let json: unknown;
  try {
    sig = fromBase64Url(signature);
    json = JSON.parse(decoder.decode(fromBase64Url(body)));
  } catch {
    return { ok: false, reason: 'token is not base64url-encoded JSON' };
  }
  const signed = encoder.encode(body);
  const trusted = publicKeysHex.some((key) => {
    try {
      return ed25519.verify(sig, signed, hexToBytes(key));
    } catch {
      return false;
    }
  });
  if (!trusted) return { ok: false, reason: 'signature does not verify with any trusted approval key' };
  const claims = DecisionClaims.safeParse(json);
  if (!claims.success) return { ok: false, reason: `claims are malformed: ${claims.error.issues[0]?.message}` };
  return { ok: true, claims: claims.data };
}

export function publicKeyHex(privateKey: Uint8Array): string {
  return bytesToHex(ed25519.getPublicKey(privateKey));
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = [18, 12, 6, 0].map((shift) => ALPHABET[(n >> shift) & 63]!);
    out += chars.slice(0, Math.min(4, bytes.length - i + 1)).join('');
  }
  return out;
}

function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Error('not base64url');
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    buffer = (buffer << 6) | ALPHABET.indexOf(char);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 255);
    }
  }
  return Uint8Array.from(bytes);
}

function hexToBytes(hex: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error('not hex');
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
