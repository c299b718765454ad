/**
 * What the logger never writes. Two nets: fields by path (pino's `redact`: headers and properties
 * named like credentials), then every finished line by value (the secrets this process was configured
 * with, and the shapes of our and common credentials), so a secret inside an error message or a URL
 * is caught too.
 */

const CENSOR = '[REDACTED]';

/** Fields whose values are credentials, up to two levels down (deeper: the value net below). */
const secretNames = [
  'authorization',
  'cookie',
  'password',
  'secret',
  'secretKey',
  'apiKey',
  'token',
  'accessToken',
  'clientSecret',
  'databaseUrl',
];

export const secretPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  ...secretNames.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]),
];

/** Environment variables whose values are secrets: named like one, not a file or directory path. */
const SECRET_VARIABLE = /(KEY|SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL)S?$|_KEY_|_SECRET_/i;
const NOT_A_SECRET = /(_FILE|_PATH|_DIR|_ID|_TOKENS)$/i;
/** Shorter values are too likely to be ordinary words or numbers to replace everywhere. */
const MIN_SECRET_LENGTH = 8;

const shapes: [RegExp, string][] = [
  // Our API keys: the prefix is public (it names the key), the rest is the secret.
  [/\b(qlp_[0-9a-f]{12}_)[A-Za-z0-9_-]{20,}/g, `$1${CENSOR}`],
  [/\bwhsec_[A-Za-z0-9_-]{16,}/g, CENSOR],
  [/\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${CENSOR}`],
  [/\bsk-[A-Za-z0-9_-]{16,}/g, CENSOR],
  // user:password@ in any URL (DATABASE_URL, a provider's base URL…).
  [/\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s"]*:)[^@\s"/]+@/gi, `$1${CENSOR}@`],
];

const registered = new Set<string>();
let fromEnvironment: string[] = secretsFromEnvironment(process.env);

/** Adds values the logger must never write (e.g. secrets read from files or a vault). */
export function registerSecrets(...values: (string | undefined)[]): void {
  for (const value of values) if (value && value.length >= MIN_SECRET_LENGTH) registered.add(value);
}

/** Re-reads the environment's secrets (after it changed, e.g. in a test). */
export function refreshSecretsFromEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  fromEnvironment = secretsFromEnvironment(env);
}

export function secretsFromEnvironment(env: NodeJS.ProcessEnv): string[] {
  const values: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (SECRET_VARIABLE.test(name) && !NOT_A_SECRET.test(name)) values.push(value);
    values.push(...urlPasswords(value));
  }
  return values.filter((value) => value.length >= MIN_SECRET_LENGTH);
}

function urlPasswords(value: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value)) return [];
  try {
    const password = decodeURIComponent(new URL(value).password);
    return password ? [password] : [];
  } catch {
    return [];
  }
}

/** One serialized line, without any known secret value or credential shape. */
export function redactSecretsIn(line: string): string {
  let out = line;
  for (const secret of [...fromEnvironment, ...registered]) {
    // As written in JSON too (quotes and backslashes escaped).
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) out = out.split(form).join(CENSOR);
  }
  for (const [pattern, replacement] of shapes) out = out.replace(pattern, replacement);
  return out;
}
