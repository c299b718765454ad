import { posix } from 'node:path';
import { CommandAnalyser } from './commands';
import { artifactFinding, emptyReview, notAssessed, type ArtifactRule, type FileReview } from './rule';

/** npm runs these by itself (install, pack, publish): whoever installs the project runs them. */
export const LIFECYCLE_SCRIPTS = [
  'preinstall',
  'install',
  'postinstall',
  'preuninstall',
  'uninstall',
  'postuninstall',
  'prepublish',
  'preprepare',
  'prepare',
  'postprepare',
  'prepublishOnly',
  'prepack',
  'postpack',
  'dependencies',
] as const;

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];

export const PACKAGE_RULES = {
  lifecycleScript: {
    id: 'package/lifecycle-script',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-829'],
    remediation: 'Drop install-time scripts; build explicitly (npm run build) so installing never runs code.',
  },
  installTimeCode: {
    id: 'package/install-time-code',
    severity: 'critical',
    category: 'security',
    cwe: ['CWE-506', 'CWE-494'],
    remediation:
      'Remove the script: install-time scripts that download, decode or evaluate code are how malicious packages run on installers.',
  },
  aliasedDependency: {
    id: 'package/aliased-dependency',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-494'],
    remediation:
      'Depend on the package by its own name: an npm: alias installs a different package than the one named.',
  },
  cleartextSource: {
    id: 'package/cleartext-dependency-source',
    severity: 'critical',
    category: 'security',
    cwe: ['CWE-494', 'CWE-319'],
    remediation:
      'Depend on a published registry version: code fetched over plain http can be swapped by anyone on the path.',
  },
  remoteSource: {
    id: 'package/non-registry-source',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-494', 'CWE-829'],
    remediation:
      'Depend on a published registry version with a semver range: git and URL sources bypass the registry and its integrity checks.',
  },
  localSource: {
    id: 'package/local-dependency-source',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-829'],
    remediation: 'Depend on a published registry version, or on a path inside the project.',
  },
  distTag: {
    id: 'package/unpinned-dist-tag',
    severity: 'low',
    category: 'security',
    cwe: ['CWE-1104'],
    remediation: 'Use a semver range instead of a moving dist-tag.',
  },
  binOutside: {
    id: 'package/bin-outside-project',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-22'],
    remediation: 'Point bin entries at files inside the package.',
  },
  invalid: {
    id: 'package/invalid-manifest',
    severity: 'medium',
    category: 'quality',
    remediation: 'Write package.json as a JSON object.',
  },
} as const satisfies Record<string, ArtifactRule>;

/** Signs that a script downloads, decodes or evaluates code rather than running project files. */
const INLINE_CODE = [
  'curl',
  'wget',
  'http://',
  'https://',
  'base64',
  'eval',
  'atob(',
  'buffer.from(',
  'fromcharcode',
  '\\x',
  'child_process',
  'xxd -r',
  'openssl enc',
];
const INLINE_FLAGS = new Map([
  ['node', ['-e', '--eval', '-p', '--print']],
  ['nodejs', ['-e', '--eval', '-p', '--print']],
  ['python', ['-c']],
  ['python3', ['-c']],
  ['perl', ['-e', '-E']],
  ['ruby', ['-e']],
  ['sh', ['-c']],
  ['bash', ['-c']],
]);

function inlineCode(script: string): string | undefined {
  const lower = script.toLowerCase();
  const sign = INLINE_CODE.find((token) => lower.includes(token));
  if (sign) return sign.replace(/\($/, '');
  const words = lower.split(/\s+/);
  for (let i = 0; i < words.length - 1; i++) {
    const name = words[i]!.slice(words[i]!.lastIndexOf('/') + 1);
    if (INLINE_FLAGS.get(name)?.includes(words[i + 1]!)) return `${name} ${words[i + 1]}`;
  }
  return undefined;
}

const REMOTE_PREFIXES = ['git+ssh:', 'git+https:', 'git+file:', 'github:', 'gitlab:', 'bitbucket:', 'gist:', 'https:'];
const CLEARTEXT_PREFIXES = ['http:', 'git:', 'git+http:'];
const LOCAL_PREFIXES = ['file:', 'link:', 'portal:', 'workspace:'];

/** Dependency specs that are not a registry semver range: where the code would really come from. */
function sourceProblem(spec: string): { rule: ArtifactRule; why: string } | undefined {
  const lower = spec.trim().toLowerCase();
  if (lower.startsWith('npm:'))
    return { rule: PACKAGE_RULES.aliasedDependency, why: `is an alias for ${spec.slice(4)}` };
  if (CLEARTEXT_PREFIXES.some((prefix) => lower.startsWith(prefix)))
    return { rule: PACKAGE_RULES.cleartextSource, why: `is fetched over an unencrypted protocol from ${spec}` };
  // `user/repo` (optionally #ref) is a GitHub shorthand; scoped names never appear as a spec.
  const shorthand = /^[\w.-]+\/[\w.-]+(#.*)?$/.test(lower);
  if (shorthand || REMOTE_PREFIXES.some((prefix) => lower.startsWith(prefix)))
    return { rule: PACKAGE_RULES.remoteSource, why: `comes from ${spec}, outside the registry` };
  const local = LOCAL_PREFIXES.find((prefix) => lower.startsWith(prefix));
  if (local) {
    const target = spec.slice(local.length);
    const outside = target.startsWith('/') || posix.normalize(target).startsWith('..');
    return {
      rule: outside ? PACKAGE_RULES.remoteSource : PACKAGE_RULES.localSource,
      why: `comes from ${spec}${outside ? ', outside the project: not in the capsule, never reviewed' : ''}`,
    };
  }
  if (/^[a-z][a-z0-9._-]*$/.test(lower) && !/^v?\d/.test(lower) && lower !== 'x')
    return { rule: PACKAGE_RULES.distTag, why: `follows the moving dist-tag "${spec}"` };
  return undefined;
}

/** Where each key of a JSON text is first used as a key, found in one pass (keys map to their 1-based line). */
export function keyLines(content: string): Map<string, number> {
  const lines = new Map<string, number>();
  let line = 1;
  for (let i = 0; i < content.length; i++) {
    const c = content[i];
    if (c === '\n') line++;
    if (c !== '"') continue;
    const start = i;
    for (i++; i < content.length && content[i] !== '"'; i++) {
      if (content[i] === '\\') i++;
      else if (content[i] === '\n') line++;
    }
    let next = i + 1;
    while (content[next] === ' ' || content[next] === '\t' || content[next] === '\r' || content[next] === '\n') next++;
    if (content[next] !== ':') continue;
    try {
      const key = JSON.parse(content.slice(start, i + 1)) as string;
      if (!lines.has(key)) lines.set(key, line);
    } catch {
      // not a well-formed string: not a key we report on
    }
  }
  return lines;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** package.json: lifecycle scripts, download-and-execute in any script, dependency sources, bin targets. */
export function reviewPackageJson(path: string, content: string): FileReview {
  const review = emptyReview();
  const lines = keyLines(content);
  const add = (rule: ArtifactRule, key: string, message: string) =>
    review.findings.push(artifactFinding(rule, path, lines.get(key) ?? 1, message));
  let manifest: unknown;
  try {
    manifest = JSON.parse(content);
  } catch (error) {
    review.findings.push(artifactFinding(PACKAGE_RULES.invalid, path, 1, `package.json is not valid JSON`));
    review.notAssessed.push(notAssessed(path, `not valid JSON: ${(error as Error).message.slice(0, 120)}`));
    return review;
  }
  if (!isObject(manifest)) {
    review.findings.push(artifactFinding(PACKAGE_RULES.invalid, path, 1, 'package.json is not a JSON object'));
    return review;
  }
  const scripts = isObject(manifest.scripts) ? manifest.scripts : {};
  for (const [name, value] of Object.entries(scripts)) {
    if (typeof value !== 'string') continue;
    const lifecycle = (LIFECYCLE_SCRIPTS as readonly string[]).includes(name);
    const hits = new CommandAnalyser().line(value);
    for (const hit of hits) add(hit.rule, name, `${lifecycle ? 'install-time ' : ''}script "${name}" ${hit.message}`);
    // One finding per script and rule class: a piped download already is the worst this script can be.
    if (!lifecycle || hits.some((hit) => hit.rule.id === 'download-exec')) continue;
    const sign = inlineCode(value);
    if (sign)
      add(
        PACKAGE_RULES.installTimeCode,
        name,
        `install-time script "${name}" runs fetched, encoded or inline code (${sign})`,
      );
    else
      add(
        PACKAGE_RULES.lifecycleScript,
        name,
        `"${name}" runs automatically on npm install/pack/publish: ${value.slice(0, 120)}`,
      );
  }
  for (const field of DEPENDENCY_FIELDS) {
    const deps = manifest[field];
    if (!isObject(deps)) continue;
    for (const [name, spec] of Object.entries(deps)) {
      if (typeof spec !== 'string') continue;
      const problem = sourceProblem(spec);
      if (problem) add(problem.rule, name, `${field} ${name} ${problem.why}`);
    }
  }
  const bins = typeof manifest.bin === 'string' ? { [String(manifest.name ?? 'bin')]: manifest.bin } : manifest.bin;
  if (isObject(bins)) {
    for (const [name, target] of Object.entries(bins)) {
      if (typeof target !== 'string') continue;
      const resolved = posix.normalize(posix.join(posix.dirname(path), target));
      if (posix.isAbsolute(target) || resolved.startsWith('../') || resolved === '..' || target.includes('\\'))
        add(PACKAGE_RULES.binOutside, name, `bin "${name}" points outside the project: ${target}`);
    }
  }
  return review;
}
