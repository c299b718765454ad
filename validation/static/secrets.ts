import type { Finding, Severity } from '../../contracts/validation';
import { finding } from '../findings';
import { positionAt, scannableFiles, type Project, type ProjectFile } from '../project';
import { entropy, maskSecret } from '../redact';
import { runSecretlint } from './secretlint-runner';

// The last word of a name that holds a credential: `dbPassword`, `JWT_SECRET`, `stripeApiKey`, `accessToken`.
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'credential',
  'credentials',
]);
// `key` alone is too common (`cacheKey`); it counts only after one of these.
const KEY_QUALIFIERS = new Set([
  'api',
  'access',
  'private',
  'secret',
  'signing',
  'encryption',
  'auth',
  'client',
  'master',
  'license',
]);
const PLACEHOLDER =
  /^(x+|\*+|\.+|-+|changeme|change[-_]?me|example|dummy|sample|test|testing|password|secret|token|todo|tbd|placeholder|none|null|undefined|redacted|empty|string|value|foo|bar|admin)$|your[-_ ]|<[^>]*>|\$\{|\{\{|example|placeholder|xxxx|\*\*\*|replace[-_ ]?me|process\.env/i;

const ASSIGNMENT =
  /([A-Za-z_$][\w$-]*)["']?\s*(?::|=|:=|=>)\s*(?:["'`]([^"'`\r\n]{4,256})["'`]|([^\s"'`#;,]{6,256})(?=\s*(?:$|#)))/gm;
const PRIVATE_KEY = /-----BEGIN ((RSA|EC|DSA|OPENSSH|PGP|ENCRYPTED) )?PRIVATE KEY( BLOCK)?-----/g;
const STRING_LITERAL = /["'`]([A-Za-z0-9+/=_-]{32,200})["'`]/g;

function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** True when a name says it holds a credential (its last word is one). */
export function isSecretName(name: string): boolean {
  const words = nameWords(name);
  const last = words.at(-1);
  if (!last) return false;
  if (SECRET_WORDS.has(last)) return true;
  return last === 'key' && words.length > 1 && KEY_QUALIFIERS.has(words.at(-2)!);
}

/** True when a value could be a real credential rather than a placeholder, reference or prose. */
export function looksLikeCredential(name: string, value: string): boolean {
  if (PLACEHOLDER.test(value) || /\s/.test(value) || new Set(value).size < 4) return false;
  if (/^(https?:\/\/|\/|\.\/)/.test(value) && !/:\/\/[^/\s:@]+:[^/\s@]+@/.test(value)) return false;
  const isPassword = /pass|pwd/i.test(nameWords(name).at(-1) ?? '');
  // Passwords can be low-entropy words; tokens and keys are random, so demand length and entropy.
  return isPassword ? value.length >= 6 : value.length >= 12 && entropy(value) >= 3;
}

function lineFinding(file: ProjectFile, offset: number, ruleId: string, severity: Severity, message: string): Finding {
  const { line, column } = positionAt(file.content, offset);
  return finding({
    ruleId,
    tool: 'secrets',
    category: 'security',
    severity,
    message,
    location: { path: file.path, line, column },
    cwe: ['CWE-798'],
    remediation: 'Remove the value from the code, rotate it, and read it from the environment or a secret manager.',
  });
}

/** Our own detectors: private key blocks, credentials assigned to secret-named variables, high-entropy literals. */
export function detectSecrets(project: Project): Finding[] {
  const findings: Finding[] = [];
  for (const file of scannableFiles(project)) {
    if (/(^|\/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml)$/.test(file.path)) continue;
    const flagged = new Set<number>();
    const add = (item: Finding) => {
      if (flagged.has(item.location!.line)) return;
      flagged.add(item.location!.line);
      findings.push(item);
    };
    for (const match of file.content.matchAll(PRIVATE_KEY)) {
      add(lineFinding(file, match.index, 'secrets/private-key', 'critical', 'Private key embedded in the project'));
    }
    for (const match of file.content.matchAll(ASSIGNMENT)) {
      const name = match[1]!;
      const value = match[2] ?? match[3]!;
      if (!isSecretName(name) || !looksLikeCredential(name, value)) continue;
      const offset = match.index + match[0].indexOf(value);
      add(
        lineFinding(
          file,
          offset,
          'secrets/hardcoded-credential',
          'high',
          `Hardcoded credential in \`${name}\` (${maskSecret(value)})`,
        ),
      );
    }
    for (const match of file.content.matchAll(STRING_LITERAL)) {
      const value = match[1]!;
      if (!isHighEntropyToken(value)) continue;
      const before = file.content.slice(Math.max(0, match.index - 60), match.index);
      // Hashes, checksums and integrity strings are high-entropy by nature and not secrets.
      if (
        /(hash|sha\d*|digest|checksum|integrity|fingerprint|etag|uuid|nonce|iv|salt)\w*["']?\s*[:=(,]\s*$/i.test(before)
      )
        continue;
      add(
        lineFinding(
          file,
          match.index + 1,
          'secrets/high-entropy-string',
          'medium',
          `High-entropy string that may be a secret (${maskSecret(value)})`,
        ),
      );
    }
  }
  return findings;
}

/** Random-looking tokens: mixed letters and digits, no long dictionary-like runs, entropy of random base64/hex. */
export function isHighEntropyToken(value: string): boolean {
  if (!/\d/.test(value) || !/[A-Za-z]/.test(value)) return false;
  if (/^[0-9a-f]+$/i.test(value))
    return (
      value.length >= 40 &&
      entropy(value) >= 3.7 &&
      /[a-f]/i.test(value) &&
      !/^[0-9a-f]{40}$|^[0-9a-f]{64}$/i.test(value)
    );
  return entropy(value) >= 4.5 && /[A-Z]/.test(value) && /[a-z]/.test(value);
}

export interface SecretScan {
  findings: Finding[];
  /** secretlint's status; our own detectors always run. */
  secretlint: { ran: true } | { ran: false; reason: string };
}

/** secretlint's recommended rules plus our detectors; one finding per line, secretlint's (more specific) first. */
export async function scanSecrets(project: Project): Promise<SecretScan> {
  const files = scannableFiles(project);
  const findings: Finding[] = [];
  let secretlint: SecretScan['secretlint'] = { ran: true };
  try {
    for (const hit of await runSecretlint(files)) {
      const rule = hit.ruleId.replace(/^@secretlint\/secretlint-rule-/, '');
      findings.push(
        finding({
          ruleId: `secrets/${rule}`,
          tool: 'secrets',
          category: 'security',
          severity: 'critical',
          message: `${rule} credential detected by secretlint (${hit.messageId || 'secret'}; value redacted)`,
          location: { path: hit.path, line: hit.line, column: hit.column },
          cwe: ['CWE-798'],
          remediation: 'Revoke and rotate the credential, remove it from the code, and load it from a secret manager.',
        }),
      );
    }
  } catch (error) {
    secretlint = { ran: false, reason: error instanceof Error ? error.message : String(error) };
  }
  const seen = new Set(findings.map((f) => `${f.location!.path}:${f.location!.line}`));
  for (const own of detectSecrets(project)) {
    const key = `${own.location!.path}:${own.location!.line}`;
    if (!seen.has(key)) findings.push(own);
  }
  return { findings, secretlint };
}
