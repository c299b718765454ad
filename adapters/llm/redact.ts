// Provider error bodies can echo part of a key ("Incorrect API key provided: sk-ab***yz"); none of it may leak.
const KEY_LIKE = /\b(sk|rk|pk|sess)-[A-Za-z0-9_*.-]{6,}/g;
const BEARER = /\b(Bearer|api-key:?)\s+[A-Za-z0-9_*.-]{6,}/gi;

/** Removes configured secrets and anything shaped like an API key from text bound for logs, errors or results. */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out.replace(KEY_LIKE, '[redacted-key]').replace(BEARER, '$1 [redacted]');
}
