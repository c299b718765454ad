import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { buildSbom, SBOM_PROPERTIES, sbomDependencies, type SbomInput } from '../../capsule/sbom';

// The capsule's CycloneDX SBOM: valid against the 1.6 schema (the library's strict validator, schemas
// read from node_modules), one component per declared npm package and per file, and byte-identical
// for the same input whatever the input order or the machine's locale.

type Component = {
  type: string;
  name: string;
  version?: string;
  'bom-ref': string;
  scope?: string;
  purl?: string;
  licenses?: ({ license: { id?: string; name?: string } } | { expression: string })[];
  hashes?: { alg: string; content: string }[];
  properties?: { name: string; value: string }[];
};
type Sbom = {
  serialNumber: string;
  metadata: { timestamp: string; tools: { components: Component[] }; component: Component & { description: string } };
  components: Component[];
  dependencies: { ref: string; dependsOn?: string[] }[];
};

const json = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2));
const file = (path: string, content: string | Buffer) => ({
  path,
  content: typeof content === 'string' ? Buffer.from(content) : content,
});

/** A workspace: root and nested manifests, one lockfile (v3) with a hoisted and a nested copy of uuid. */
const workspaceFiles = [
  file(
    'package.json',
    json({
      name: 'ledger',
      version: '2.1.0',
      workspaces: ['packages/*'],
      dependencies: { express: '^5.0.0', '@types/node': '^20.0.0', uuid: '^9.0.0', 'left-pad': '^1.3.0' },
      devDependencies: { jest: '^30.0.0', typescript: '~5.9.0', express: '^5.0.0' },
    }),
  ),
  file(
    'package-lock.json',
    json({
      name: 'ledger',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'ledger', version: '2.1.0' },
        'node_modules/express': { version: '5.1.0', license: 'MIT' },
        'node_modules/@types/node': { version: '20.19.43', license: 'MIT' },
        'node_modules/uuid': { version: '9.0.1', license: 'MIT' },
        'node_modules/jest': { version: '30.5.2', license: 'MIT' },
        'node_modules/typescript': { version: '5.9.3', license: 'Apache-2.0' },
        'node_modules/@ledger/api': { resolved: 'packages/api', link: true },
        'packages/api': { name: '@ledger/api', version: '0.3.0', license: 'UNLICENSED' },
        'packages/api/node_modules/uuid': { version: '11.1.0', license: '(MIT OR Apache-2.0)' },
        'node_modules/pg': { version: '8.16.0', license: 'SEE LICENSE IN LICENSE.md' },
      },
    }),
  ),
  file(
    'packages/api/package.json',
    json({ name: '@ledger/api', dependencies: { uuid: '^11.0.0', pg: '^8.16.0', express: '^5.0.0' } }),
  ),
  file('packages/web/package.json', json({ name: 'web', dependencies: { '@ledger/api': '*' } })),
  file('src/server.ts', "import express from 'express';\nexport const app = express();\n"),
  file('README.md', '# ledger\n'),
];

const input = (files: SbomInput['files'], capsuleId = 'bcea52a9-d59f-4730-8faa-bc810307c47a'): SbomInput => ({
  capsuleId,
  name: 'ledger',
  version: '2.1.0',
  description: 'Double-entry ledger with an audit trail',
  createdAt: '2026-03-04T05:06:07.000Z',
  platform: { name: 'quantumlayer', version: '0.1.0' },
  files,
});

const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
async function validSbom(text: string): Promise<Sbom> {
  expect(await validator.validate(text)).toBeNull();
  return JSON.parse(text) as Sbom;
}

const libraries = (sbom: Sbom) => sbom.components.filter((c) => c.type === 'library');
const library = (sbom: Sbom, name: string, version: string) =>
  sbom.components.find((c) => c.type === 'library' && c.name === name && c.version === version)!;
const property = (component: Component, name: string) =>
  (component.properties ?? []).filter((p) => p.name === name).map((p) => p.value);

describe('capsule SBOM (CycloneDX 1.6)', () => {
  it('is valid CycloneDX 1.6 with the capsule serial number, createdAt, the platform and the application', async () => {
    const text = buildSbom(input(workspaceFiles));
    const sbom = await validSbom(text);
    expect(JSON.parse(text)).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1 });
    expect(sbom.serialNumber).toBe('urn:uuid:bcea52a9-d59f-4730-8faa-bc810307c47a');
    expect(sbom.metadata.timestamp).toBe('2026-03-04T05:06:07.000Z');
    expect(sbom.metadata.tools.components).toEqual([{ type: 'application', name: 'quantumlayer', version: '0.1.0' }]);
    expect(sbom.metadata.component).toMatchObject({
      type: 'application',
      name: 'ledger',
      version: '2.1.0',
      description: 'Double-entry ledger with an audit trail',
    });
    expect(text.split('\n')[1]).toMatch(/^ {2}"/); // 2-space indentation
  });

  it('resolves versions from the lockfile the way node would, nested node_modules first, and gives purls', async () => {
    const sbom = await validSbom(buildSbom(input(workspaceFiles)));
    expect(library(sbom, 'express', '5.1.0').purl).toBe('pkg:npm/express@5.1.0');
    expect(library(sbom, '@types/node', '20.19.43').purl).toBe('pkg:npm/%40types/node@20.19.43');
    // packages/api gets its own uuid 11; the root gets the hoisted uuid 9.
    expect(library(sbom, 'uuid', '9.0.1')).toMatchObject({ purl: 'pkg:npm/uuid@9.0.1', 'bom-ref': 'npm:uuid@9.0.1' });
    expect(property(library(sbom, 'uuid', '9.0.1'), SBOM_PROPERTIES.declaredIn)).toEqual(['package.json']);
    expect(library(sbom, 'uuid', '11.1.0').purl).toBe('pkg:npm/uuid@11.1.0');
    expect(property(library(sbom, 'uuid', '11.1.0'), SBOM_PROPERTIES.declaredIn)).toEqual([
      'packages/api/package.json',
    ]);
    // A nested manifest falls back to the root's node_modules; a workspace link resolves to its folder's version.
    expect(library(sbom, 'pg', '8.16.0').purl).toBe('pkg:npm/pg@8.16.0');
    expect(library(sbom, '@ledger/api', '0.3.0').purl).toBe('pkg:npm/%40ledger/api@0.3.0');
    for (const component of libraries(sbom).filter((c) => c.name !== 'left-pad')) {
      expect(property(component, SBOM_PROPERTIES.versionSource)).toEqual(['lockfile']);
    }
    // Declared in two manifests, resolved to one version: one component naming both.
    expect(property(library(sbom, 'express', '5.1.0'), SBOM_PROPERTIES.declaredIn)).toEqual([
      'package.json',
      'packages/api/package.json',
    ]);
  });

  it('keeps the declared range, says so, and leaves the version out of the purl when the lockfile lacks a package', async () => {
    const sbom = await validSbom(buildSbom(input(workspaceFiles)));
    const leftPad = library(sbom, 'left-pad', '^1.3.0');
    expect(leftPad.purl).toBe('pkg:npm/left-pad');
    expect(property(leftPad, SBOM_PROPERTIES.versionSource)).toEqual(['declared-range']);
    expect(leftPad.licenses).toBeUndefined();
  });

  it('takes licences from the lockfile: SPDX ids, expressions, and anything else as a named licence', async () => {
    const sbom = await validSbom(buildSbom(input(workspaceFiles)));
    expect(library(sbom, 'express', '5.1.0').licenses).toEqual([{ license: { id: 'MIT' } }]);
    expect(library(sbom, 'typescript', '5.9.3').licenses).toEqual([{ license: { id: 'Apache-2.0' } }]);
    expect(library(sbom, 'uuid', '11.1.0').licenses).toEqual([{ expression: '(MIT OR Apache-2.0)' }]);
    expect(library(sbom, 'pg', '8.16.0').licenses).toEqual([{ license: { name: 'SEE LICENSE IN LICENSE.md' } }]);
  });

  it('scopes runtime packages required and dev-only packages optional, as capsule.json metadata shows them', async () => {
    const sbom = await validSbom(buildSbom(input(workspaceFiles)));
    expect(library(sbom, 'jest', '30.5.2').scope).toBe('optional');
    expect(property(library(sbom, 'jest', '30.5.2'), SBOM_PROPERTIES.development)).toEqual(['true']);
    // express is both a dependency and a devDependency: runtime wins.
    expect(library(sbom, 'express', '5.1.0').scope).toBe('required');
    expect(property(library(sbom, 'express', '5.1.0'), SBOM_PROPERTIES.development)).toEqual([]);

    expect(sbomDependencies(workspaceFiles)).toEqual([
      { name: '@ledger/api', version: '0.3.0', scope: 'runtime' },
      { name: '@types/node', version: '20.19.43', scope: 'runtime' },
      { name: 'express', version: '5.1.0', scope: 'runtime' },
      { name: 'jest', version: '30.5.2', scope: 'dev' },
      { name: 'left-pad', version: '^1.3.0', scope: 'runtime' },
      { name: 'pg', version: '8.16.0', scope: 'runtime' },
      { name: 'typescript', version: '5.9.3', scope: 'dev' },
      { name: 'uuid', version: '11.1.0', scope: 'runtime' },
      { name: 'uuid', version: '9.0.1', scope: 'runtime' },
    ]);
    expect(libraries(sbom).map((c) => [c.name, c.version, c.scope === 'required' ? 'runtime' : 'dev'])).toEqual(
      sbomDependencies(workspaceFiles).map((d) => [d.name, d.version, d.scope]),
    );
    // The application depends on every package it declares.
    const app = sbom.dependencies.find((d) => d.ref === 'capsule:bcea52a9-d59f-4730-8faa-bc810307c47a')!;
    expect(app.dependsOn).toEqual(libraries(sbom).map((c) => c['bom-ref']));
  });

  it('lists every file with its sha256 under bom-ref file:<path>', async () => {
    const binary = file('assets/logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]));
    const files = [...workspaceFiles, binary];
    const sbom = await validSbom(buildSbom(input(files)));
    const fileComponents = sbom.components.filter((c) => c.type === 'file');
    expect(fileComponents.map((c) => c.name).sort()).toEqual(files.map((f) => f.path).sort());
    for (const { path, content } of files) {
      expect(sbom.components.find((c) => c['bom-ref'] === `file:${path}`)).toEqual({
        type: 'file',
        name: path,
        'bom-ref': `file:${path}`,
        hashes: [{ alg: 'SHA-256', content: createHash('sha256').update(content).digest('hex') }],
      });
    }
  });

  it('is byte-identical for the same input, whatever the order of the files', () => {
    const first = buildSbom(input(workspaceFiles));
    expect(buildSbom(input(workspaceFiles))).toBe(first);
    expect(buildSbom(input([...workspaceFiles].reverse()))).toBe(first);
  });

  it('does not depend on the locale of the process that builds it', async () => {
    // Czech collation puts "ch" after "h": a locale-aware sort would order these differently there.
    const files = [
      file('package.json', json({ dependencies: { 'ch-utils': '1.0.0', 'h-utils': '1.0.0', 'i-utils': '1.0.0' } })),
      file('ch.ts', 'export {};\n'),
      file('h.ts', 'export {};\n'),
      file('i.ts', 'export {};\n'),
    ];
    const here = buildSbom(input(files));
    const script = [
      "const { buildSbom } = require('./capsule/sbom');",
      "let raw = ''; process.stdin.on('data', (c) => (raw += c)).on('end', () => {",
      '  const input = JSON.parse(raw); input.files = input.files.map((f) => ({ path: f.path, content: Buffer.from(f.content, "base64") }));',
      "  process.stdout.write(JSON.stringify({ collation: 'ch'.localeCompare('h'), sbom: buildSbom(input) }));",
      '});',
    ].join('\n');
    const payload = {
      ...input(files),
      files: files.map((f) => ({ path: f.path, content: f.content.toString('base64') })),
    };
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        join(__dirname, '../../node_modules/.bin/tsx'),
        ['-e', script],
        { cwd: join(__dirname, '../..'), env: { ...process.env, LANG: 'cs_CZ.UTF-8', LC_ALL: 'cs_CZ.UTF-8' } },
        (error, out) => (error ? reject(error) : resolve(out)),
      );
      child.stdin!.end(JSON.stringify(payload));
    });
    const there = JSON.parse(stdout) as { collation: number; sbom: string };
    expect(there.collation).toBeGreaterThan(0); // the child really collates the Czech way
    expect(there.sbom).toBe(here);
  });

  it('describes a project without package.json by its files alone', async () => {
    const files = [file('main.py', 'print("hi")\n'), file('requirements.txt', 'flask==3.0.0\n')];
    const sbom = await validSbom(buildSbom(input(files)));
    expect(libraries(sbom)).toEqual([]);
    expect(sbom.components.map((c) => c['bom-ref'])).toEqual(['file:main.py', 'file:requirements.txt']);
    expect(sbomDependencies(files)).toEqual([]);
  });

  it('skips malformed manifests and lockfiles without throwing', async () => {
    const files = [
      file('package.json', '{ "dependencies": { "express": '),
      file('broken-lock/package.json', json({ dependencies: { express: '^5.0.0' } })),
      file('broken-lock/package-lock.json', '{ "packages": '),
      file(
        'odd/package.json',
        json({ dependencies: ['express'], devDependencies: { jest: 30, '': '1', ok: '1.0.0' } }),
      ),
      file('array/package.json', json(['not', 'a', 'manifest'])),
      file('null/package.json', 'null'),
      file('vendored/node_modules/lodash/package.json', json({ dependencies: { hidden: '1.0.0' } })),
      file('odd/package-lock.json', json({ lockfileVersion: 3, packages: { 'node_modules/ok': 'not an entry' } })),
    ];
    const text = buildSbom(input(files));
    const sbom = await validSbom(text);
    expect(sbomDependencies(files)).toEqual([
      { name: 'express', version: '^5.0.0', scope: 'runtime' },
      { name: 'ok', version: '1.0.0', scope: 'dev' },
    ]);
    expect(property(library(sbom, 'express', '^5.0.0'), SBOM_PROPERTIES.versionSource)).toEqual(['declared-range']);
    expect(sbom.components.filter((c) => c.type === 'file')).toHaveLength(files.length);
  });

  it('refuses a capsule id that is not a UUID rather than emit an SBOM without a serial number', () => {
    expect(() => buildSbom(input(workspaceFiles, 'not-a-uuid'))).toThrow(/not a UUID/);
  });
});
