import { builtinModules } from 'node:module';
import { z } from 'zod';
import type { Finding, Severity } from '../../contracts/validation';
import { finding } from '../findings';
import { isCodeFile, positionAt, scannableFiles, type Project, type ProjectFile } from '../project';
import policyFile from './dependency-policy.json';

export const DependencyPolicy = z.object({
  allowedLicenses: z.array(z.string()),
  /** Scope prefix → licence, for scopes whose every package we accept as existing. */
  scopes: z.record(z.string(), z.string()),
  packages: z.record(z.string(), z.string()),
  compromisedVersions: z.record(z.string(), z.object({ versions: z.array(z.string()), reason: z.string() })),
  maliciousPackages: z.record(z.string(), z.string()),
});
export type DependencyPolicy = z.infer<typeof DependencyPolicy>;

export const defaultDependencyPolicy: DependencyPolicy = DependencyPolicy.parse(policyFile);

const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;
// Linear time: anchored on `from`, `import` or `require` right before the string (no lazy scan to a distant `from`).
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)["']([^"'\s]+)["']/g;

const PackageJson = z.object(
  Object.fromEntries(DEPENDENCY_FIELDS.map((field) => [field, z.record(z.string(), z.string()).optional()])),
);

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * True when a spec pins exactly `version` (`1.2.3`, `=1.2.3`, `v1.2.3`). Ranges are not flagged:
 * compromised releases are unpublished from the registry within hours, so only an exact pin (or a
 * lockfile entry) can still install one, from a cache or a mirror.
 */
export function pinsVersion(spec: string, version: string): boolean {
  return spec.trim().replace(/^[=v]+/, '') === version;
}

/** Resolved versions from a package-lock.json (v2/v3 `packages`, or v1 `dependencies`). */
function lockedVersions(file: ProjectFile): Map<string, string> {
  const locked = new Map<string, string>();
  try {
    const lock = JSON.parse(file.content) as {
      packages?: Record<string, { version?: string }>;
      dependencies?: Record<string, { version?: string }>;
    };
    for (const [path, entry] of Object.entries(lock.packages ?? {})) {
      const name = path.split('node_modules/').at(-1);
      if (name && entry.version) locked.set(name, entry.version);
    }
    for (const [name, entry] of Object.entries(lock.dependencies ?? {}))
      if (entry.version) locked.set(name, entry.version);
  } catch {
    // not a lockfile we can read: nothing locked
  }
  return locked;
}

export function licenceOf(name: string, policy: DependencyPolicy): string | undefined {
  return policy.packages[name] ?? Object.entries(policy.scopes).find(([scope]) => name.startsWith(scope))?.[1];
}

/** Package names declared in any package.json of the project. */
export function declaredPackages(project: Project): Set<string> {
  const names = new Set<string>();
  for (const file of project.files.filter((f) => /(^|\/)package\.json$/.test(f.path))) {
    try {
      const manifest = PackageJson.parse(JSON.parse(file.content));
      for (const field of DEPENDENCY_FIELDS) Object.keys(manifest[field] ?? {}).forEach((name) => names.add(name));
    } catch {
      // reported by checkDependencies
    }
  }
  return names;
}

interface Declared {
  name: string;
  range: string;
  file: ProjectFile;
  line: number;
}

/** Records one dependency finding; checkDependencies and checkPackage share it. */
type AddFinding = (
  ruleId: string,
  severity: Severity,
  message: string,
  file: ProjectFile,
  line: number,
  remediation: string,
  cwe?: string,
) => void;

/** Checks declared and imported packages against the offline policy: malicious, compromised, unknown, licence. */
export function checkDependencies(project: Project, policy: DependencyPolicy = defaultDependencyPolicy): Finding[] {
  const findings: Finding[] = [];
  const declared = new Map<string, Declared>();
  const add: AddFinding = (ruleId, severity, message, file, line, remediation, cwe = 'CWE-1357') =>
    findings.push(
      finding({
        ruleId: `dependencies/${ruleId}`,
        tool: 'dependencies',
        category: 'security',
        severity,
        message,
        location: { path: file.path, line },
        cwe: [cwe],
        remediation,
      }),
    );

  for (const file of project.files.filter((f) => /(^|\/)package\.json$/.test(f.path))) {
    let manifest: z.infer<typeof PackageJson>;
    try {
      manifest = PackageJson.parse(JSON.parse(file.content));
    } catch {
      add(
        'invalid-manifest',
        'medium',
        'package.json is not valid JSON with string version ranges',
        file,
        1,
        'Fix package.json.',
        'CWE-1104',
      );
      continue;
    }
    for (const field of DEPENDENCY_FIELDS) {
      for (const [name, range] of Object.entries(manifest[field] ?? {})) {
        const index = file.content.indexOf(`"${name}"`);
        declared.set(name, { name, range, file, line: index >= 0 ? positionAt(file.content, index).line : 1 });
      }
    }
  }

  for (const dep of declared.values()) {
    checkPackage(dep.name, dep.file, dep.line, policy, add);
    const bad = policy.compromisedVersions[dep.name];
    const hit = bad?.versions.find((version) => pinsVersion(dep.range, version));
    if (bad && hit) {
      add(
        'compromised-version',
        'critical',
        `${dep.name} is pinned to ${hit}: ${bad.reason}`,
        dep.file,
        dep.line,
        `Move ${dep.name} to a version released after the incident.`,
        'CWE-506',
      );
    }
    if (/^(git|git\+|https?:|file:|github:|[\w-]+\/[\w.-]+$)/.test(dep.range)) {
      add(
        'non-registry-source',
        'medium',
        `${dep.name} is installed from "${dep.range}", outside the registry and its integrity checks`,
        dep.file,
        dep.line,
        'Depend on a published registry version.',
        'CWE-494',
      );
    }
  }

  for (const file of project.files.filter((f) => /(^|\/)package-lock\.json$/.test(f.path))) {
    for (const [name, version] of lockedVersions(file)) {
      const bad = policy.compromisedVersions[name];
      if (bad?.versions.includes(version)) {
        const index = file.content.indexOf(`node_modules/${name}"`);
        const line = index >= 0 ? positionAt(file.content, index).line : 1;
        add(
          'compromised-version',
          'critical',
          `lockfile resolves ${name} to ${version}: ${bad.reason}`,
          file,
          line,
          `Update ${name} and regenerate the lockfile.`,
          'CWE-506',
        );
      }
    }
  }

  // Imports of packages that no package.json declares: the generator may have invented them.
  const reported = new Set(declared.keys());
  for (const file of scannableFiles(project).filter((f) => isCodeFile(f.path))) {
    for (const match of file.content.matchAll(IMPORT)) {
      const specifier = match[1]!;
      if (
        specifier.startsWith('.') ||
        specifier.startsWith('/') ||
        specifier.startsWith('node:') || // only Node resolves the node: scheme, incl. prefix-only node:test
        BUILTINS.has(specifier) ||
        BUILTINS.has(specifier.split('/')[0]!)
      )
        continue;
      const name = packageName(specifier);
      if (reported.has(name)) continue;
      reported.add(name);
      const { line } = positionAt(file.content, match.index);
      add(
        'undeclared-import',
        'low',
        `${name} is imported but not declared in package.json`,
        file,
        line,
        `Declare ${name} in package.json with a pinned range.`,
        'CWE-1104',
      );
      checkPackage(name, file, line, policy, add);
    }
  }
  return findings;
}

function checkPackage(name: string, file: ProjectFile, line: number, policy: DependencyPolicy, add: AddFinding): void {
  const malicious = policy.maliciousPackages[name];
  if (malicious) {
    add(
      'malicious-package',
      'critical',
      `${name} is a known-bad package: ${malicious}`,
      file,
      line,
      `Remove ${name}; check for the package it imitates.`,
      'CWE-506',
    );
    return;
  }
  const licence = licenceOf(name, policy);
  if (licence === undefined) {
    add(
      'unknown-package',
      'medium',
      `${name} is not in the offline package set: it may not exist (hallucinated) or be a typosquat`,
      file,
      line,
      `Check that ${name} exists, is maintained and is the intended package; then add it to the policy.`,
    );
  } else if (!policy.allowedLicenses.includes(licence)) {
    add(
      'licence-not-allowed',
      'high',
      `${name} is licensed "${licence}", which is not on the licence allow-list`,
      file,
      line,
      `Replace ${name} with a permissively licensed package or obtain legal approval.`,
      'CWE-1357',
    );
  }
}
