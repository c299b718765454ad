import { COMMAND_RULES } from './commands';
import { artifactFinding, emptyReview, type ArtifactRule, type FileReview } from './rule';

export const NPMRC_RULES = {
  cleartextRegistry: {
    id: 'npmrc/cleartext-registry',
    severity: 'critical',
    category: 'security',
    cwe: ['CWE-319', 'CWE-494'],
    remediation: 'Install from https registries only: over plain http anyone on the path can swap every package.',
  },
  customRegistry: {
    id: 'npmrc/custom-registry',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-829'],
    remediation: 'Install from the public registry or your organisation’s mirror, configured outside the project.',
  },
  credential: {
    id: 'npmrc/credential',
    severity: 'critical',
    category: 'security',
    cwe: ['CWE-798'],
    remediation: 'Never commit registry credentials: reference an environment variable (${NPM_TOKEN}).',
  },
  scriptControl: {
    id: 'npmrc/script-control',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-829'],
    remediation: 'Do not change how npm runs scripts (script-shell, node-options) from the project.',
  },
} as const satisfies Record<string, ArtifactRule>;

const PUBLIC_REGISTRIES = ['https://registry.npmjs.org', 'https://registry.yarnpkg.com'];
const CREDENTIAL_KEYS = ['_authtoken', '_auth', '_password', 'password', 'certfile', 'keyfile'];

/** `.npmrc`: where packages come from, TLS, credentials, and settings that change how scripts run. */
export function reviewNpmrc(path: string, content: string): FileReview {
  const review = emptyReview();
  const add = (rule: ArtifactRule, line: number, message: string) =>
    review.findings.push(artifactFinding(rule, path, line, message));
  content.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const text = raw.trim();
    if (!text || text.startsWith('#') || text.startsWith(';')) return;
    const eq = text.indexOf('=');
    if (eq < 0) return;
    const key = text.slice(0, eq).trim().toLowerCase();
    const value = text
      .slice(eq + 1)
      .trim()
      .replace(/^["']|["']$/g, '');
    const setting = key.slice(key.lastIndexOf(':') + 1); // `//host/:_authToken`, `@scope:registry`
    if (setting === 'registry') {
      if (value.toLowerCase().startsWith('http://'))
        add(NPMRC_RULES.cleartextRegistry, line, `${key} installs packages over plain http from ${value}`);
      else if (!PUBLIC_REGISTRIES.some((registry) => value.toLowerCase().startsWith(registry)))
        add(NPMRC_RULES.customRegistry, line, `${key} installs packages from ${value}`);
    } else if (setting === 'strict-ssl' && value.toLowerCase() === 'false') {
      add(COMMAND_RULES.tlsDisabled, line, 'strict-ssl=false turns TLS certificate verification off for installs');
    } else if (CREDENTIAL_KEYS.includes(setting) && value && !value.startsWith('${')) {
      add(NPMRC_RULES.credential, line, `${setting} holds a literal credential (value redacted)`);
    } else if (setting === 'script-shell' || setting === 'node-options' || setting === 'shell') {
      add(NPMRC_RULES.scriptControl, line, `${setting}=${value.slice(0, 80)} changes how npm runs scripts`);
    }
  });
  return review;
}
