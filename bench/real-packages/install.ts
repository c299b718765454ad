import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { MAX_SCANNED_BYTES } from '../../validation/project';

// Installs one package into its own prefix (no scripts run, nothing added to the project) and reads its
// published source: the files our validator would see, and the ones left out with the reason.

const run = promisify(execFile);

/** npm install into `<scratch>/<name>`: each package alone, so versions never collide. */
export async function installPackage(scratch: string, name: string, version: string): Promise<string> {
  const prefix = join(scratch, name);
  await mkdir(prefix, { recursive: true });
  const args = ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', prefix, `${name}@${version}`];
  await run('npm', args, { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
  const root = join(prefix, 'node_modules', name);
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
  if (manifest.version !== version) throw new Error(`${name}: installed ${manifest.version}, wanted ${version}`);
  return root;
}

const CODE = /\.(js|cjs|mjs|ts|mts|cts)$/;

/** Left out everywhere: dependencies, tests, examples, tooling; type declarations and minified files are not source. */
const EXCLUDED_DIRS: Record<string, string> = {
  node_modules: 'dependencies',
  test: 'tests',
  tests: 'tests',
  __tests__: 'tests',
  spec: 'tests',
  examples: 'examples',
  example: 'examples',
  benchmarks: 'benchmarks',
  benchmark: 'benchmarks',
  docs: 'documentation',
  build: 'build tooling',
  scripts: 'build tooling',
  integration: 'tests',
};
const EXCLUDED_FILES: [RegExp, string][] = [
  [/\.d\.[cm]?ts$/, 'type declarations'],
  [/\.min\.js$/, 'minified bundle'],
  [/(^|\/)test\.js$|\.(test|spec|test-d)\.[cm]?[jt]s$/, 'tests'],
  [/(^|\/)(jakefile|gulpfile|gruntfile)\.js$|(^|\/)eslint\.config\.[cm]?js$|(^|\/)\.eslintrc\.js$/i, 'build tooling'],
];

/** Bundles or generated copies of source that is also in the package, per package. */
export const GENERATED: Record<string, [RegExp, string][]> = {
  koa: [[/^dist\//, 'ESM wrapper built from lib/']],
  ejs: [[/^ejs\.js$/, 'browser bundle of lib/']],
  lodash: [
    [/^(lodash|core)\.js$/, 'monolithic build of the per-method modules'],
    [/^fp(\.js|\/)/, 'generated wrappers around the per-method modules'],
  ],
};

export interface PackageSource {
  files: { path: string; content: string }[];
  excluded: { path: string; reason: string }[];
}

/** The package's own code files (relative paths), and every code file left out with its reason. */
export async function readSource(name: string, root: string): Promise<PackageSource> {
  const source: PackageSource = { files: [], excluded: [] };
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
      const path = dir ? posix.join(dir, entry.name) : entry.name;
      if (entry.isDirectory()) {
        const reason = EXCLUDED_DIRS[entry.name];
        if (reason) source.excluded.push({ path: `${path}/`, reason });
        else await walk(path);
        continue;
      }
      if (!entry.isFile()) continue;
      if (path === 'package.json') {
        // The dependency check reads it; without it every import would be "undeclared".
        source.files.push({ path, content: await readFile(join(root, path), 'utf8') });
        continue;
      }
      if (!CODE.test(path)) continue;
      const reason = [...EXCLUDED_FILES, ...(GENERATED[name] ?? [])].find(([pattern]) => pattern.test(path))?.[1];
      if (reason) source.excluded.push({ path, reason });
      else if ((await stat(join(root, path))).size > MAX_SCANNED_BYTES)
        source.excluded.push({ path, reason: `larger than the gate's scan limit (${MAX_SCANNED_BYTES} bytes)` });
      else source.files.push({ path, content: await readFile(join(root, path), 'utf8') });
    }
  };
  await walk('');
  source.files.sort((a, b) => a.path.localeCompare(b.path));
  return source;
}
