import type { Project } from '../../project';

// Releases that fixed prototype pollution in merge/set helpers; earlier ones (or an unknown version) are reported.
export const FIXED_RELEASES: Record<string, string> = {
  lodash: '4.17.21',
  'lodash.merge': '4.6.2',
  'lodash.mergewith': '4.6.2',
  'lodash.defaultsdeep': '4.6.1',
  'lodash.set': '99.0.0', // never fixed
  'lodash.setwith': '99.0.0',
  'deep-extend': '0.5.1',
  'mixin-deep': '2.0.1',
  'set-value': '4.0.1',
  'dot-prop': '5.1.1',
  merge: '2.1.1',
  jquery: '3.4.0',
  'defaults-deep': '0.2.4',
  'merge-deep': '3.0.3',
};

const versionNumbers = (version: string) => (/(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);

/** `fixed`, `vulnerable <range>` or `unknown` for a library as the project's package.json declares it. */
export function libraryStatus(
  project: Project,
  module: string,
  fixed: string | undefined = FIXED_RELEASES[module],
): { status: 'fixed' | 'vulnerable' | 'unknown'; range?: string } {
  for (const file of project.files.filter((f) => /(^|\/)package\.json$/.test(f.path))) {
    let manifest: Record<string, Record<string, string> | undefined>;
    try {
      manifest = JSON.parse(file.content) as typeof manifest;
    } catch {
      continue;
    }
    const range = manifest.dependencies?.[module] ?? manifest.devDependencies?.[module];
    if (typeof range !== 'string') continue;
    const declared = versionNumbers(range);
    if (!fixed || declared.length < 3) return { status: 'unknown', range };
    const target = versionNumbers(fixed);
    for (let i = 0; i < 3; i++) {
      if (declared[i]! > target[i]!) return { status: 'fixed', range };
      if (declared[i]! < target[i]!) return { status: 'vulnerable', range };
    }
    return { status: 'fixed', range };
  }
  return { status: 'unknown' };
}
