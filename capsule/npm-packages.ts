import { posix } from 'node:path';

// The npm packages a generated project declares (every package.json's dependencies and devDependencies),
// with the version its lockfile resolved. Malformed manifests and lockfiles are skipped, never thrown:
// the validator already reports them.

export interface NpmPackage {
  name: string;
  /** The lockfile's version when it has one, else the range the manifest declares. */
  version: string;
  /** True when `version` came from a lockfile; false when it is a declared range. */
  resolved: boolean;
  /** The lockfile's `license` field (usually an SPDX expression). */
  license?: string;
  /** runtime when any manifest lists it under dependencies, dev when only under devDependencies. */
  scope: 'runtime' | 'dev';
  /** The package.json files that declare it. */
  declaredIn: string[];
}

type ProjectFile = { path: string; content: Buffer };
type LockEntry = { version?: unknown; license?: unknown; link?: unknown; resolved?: unknown };
type Lockfile = { dir: string; packages: Record<string, LockEntry | undefined> };

/** Code-point order: the same on every machine, unlike localeCompare, which follows the process's locale. */
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function parseJson(content: Buffer): unknown {
  try {
    return JSON.parse(content.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Declared dependencies of one manifest, name → range, for entries whose range is a string. */
function declared(section: unknown): [string, string][] {
  if (!isRecord(section)) return [];
  return Object.entries(section).filter(
    (entry): entry is [string, string] => entry[0] !== '' && typeof entry[1] === 'string',
  );
}

/** Directories from `dir` up to the project root ('' is the root). */
function upwards(dir: string): string[] {
  const dirs = [dir];
  while (dirs[dirs.length - 1] !== '') {
    const parent = posix.dirname(dirs[dirs.length - 1]!);
    dirs.push(parent === '.' ? '' : parent);
  }
  return dirs;
}

const inDir = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);

/** The nearest lockfile (npm-shrinkwrap.json before package-lock.json) with a v2/v3 `packages` map. */
function lockfileFor(dir: string, files: Map<string, Buffer>, cache: Map<string, Lockfile | null>): Lockfile | null {
  for (const candidateDir of upwards(dir)) {
    for (const name of ['npm-shrinkwrap.json', 'package-lock.json']) {
      const path = inDir(candidateDir, name);
      if (!cache.has(path)) {
        const content = files.get(path);
        const parsed = content === undefined ? undefined : parseJson(content);
        cache.set(
          path,
          isRecord(parsed) && isRecord(parsed.packages)
            ? { dir: candidateDir, packages: parsed.packages as Lockfile['packages'] }
            : null,
        );
      }
      const lockfile = cache.get(path);
      if (lockfile) return lockfile;
    }
  }
  return null;
}

/** What the lockfile installs for `name` when required from `dir`: node's lookup, nearest node_modules first. */
function lockEntry(lockfile: Lockfile, dir: string, name: string): LockEntry | undefined {
  // The lockfile is in `dir` or above it: the path from its folder down to `dir`.
  const relative = dir === lockfile.dir ? '' : lockfile.dir === '' ? dir : dir.slice(lockfile.dir.length + 1);
  for (const from of upwards(relative)) {
    const entry = lockfile.packages[inDir(from, `node_modules/${name}`)];
    if (!isRecord(entry)) continue;
    // A workspace package is a link to its folder, whose entry carries the version.
    const target =
      entry.link === true && typeof entry.resolved === 'string' ? lockfile.packages[entry.resolved] : entry;
    return isRecord(target) ? target : undefined;
  }
  return undefined;
}

export function npmPackages(projectFiles: ProjectFile[]): NpmPackage[] {
  const files = new Map(projectFiles.map((file) => [file.path, file.content]));
  const manifests = [...files.keys()]
    .filter((path) => posix.basename(path) === 'package.json' && !path.split('/').includes('node_modules'))
    .sort(byCodePoint);
  const lockfiles = new Map<string, Lockfile | null>();
  const packages = new Map<string, NpmPackage>();

  for (const manifestPath of manifests) {
    const manifest = parseJson(files.get(manifestPath)!);
    if (!isRecord(manifest)) continue;
    const dir = posix.dirname(manifestPath) === '.' ? '' : posix.dirname(manifestPath);
    const lockfile = lockfileFor(dir, files, lockfiles);
    const sections = [
      ...declared(manifest.dependencies).map((entry) => [...entry, 'runtime'] as const),
      ...declared(manifest.devDependencies).map((entry) => [...entry, 'dev'] as const),
    ];
    for (const [name, range, scope] of sections) {
      const entry = lockfile ? lockEntry(lockfile, dir, name) : undefined;
      const resolved = typeof entry?.version === 'string' && entry.version !== '';
      const version = resolved ? (entry.version as string) : range;
      const key = `${name}\u0000${version}`;
      const known = packages.get(key);
      if (known) {
        if (scope === 'runtime') known.scope = 'runtime';
        known.resolved ||= resolved;
        if (!known.declaredIn.includes(manifestPath)) known.declaredIn.push(manifestPath);
        continue;
      }
      const license = typeof entry?.license === 'string' && entry.license !== '' ? entry.license : undefined;
      packages.set(key, { name, version, resolved, ...(license && { license }), scope, declaredIn: [manifestPath] });
    }
  }
  return [...packages.values()].sort((a, b) => byCodePoint(a.name, b.name) || byCodePoint(a.version, b.version));
}
