import { createHash } from 'node:crypto';

/** Shannon entropy in bits per character. */
export function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Describes a secret without revealing it: length and a short hash, enough to correlate two reports. */
export function maskSecret(value: string): string {
  return `redacted, ${value.length} chars, sha256:${createHash('sha256').update(value).digest('hex').slice(0, 8)}`;
}

// Token shapes with well-known prefixes, and any long run of token characters with high entropy.
const KNOWN_TOKENS =
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bxox[abposr]-[A-Za-z0-9-]{10,}\b|\bsk_(live|test)_[A-Za-z0-9]{16,}\b|\bAIza[0-9A-Za-z_-]{35}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g;
const LONG_WORDS = /[A-Za-z0-9+/=_-]{24,}/g;

/** Removes anything that looks like a credential from free text (LLM output, tool messages). */
export function redactSecrets(text: string): string {
  return text
    .replace(KNOWN_TOKENS, '[redacted]')
    .replace(LONG_WORDS, (word) =>
      entropy(word) >= 4 && /\d/.test(word) && /[A-Za-z]/.test(word) ? '[redacted]' : word,
    );
}
