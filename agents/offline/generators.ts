import type { GeneratedFile } from '../generated-file';
import type { CatalogueKind, OfflineSpec } from './catalogue';
import { backgroundWorkerCode, backgroundWorkerTests, backgroundWorkerUsage } from './kinds/background-worker';
import { cliToolCode, cliToolTests, cliToolUsage } from './kinds/cli-tool';
import { entityNames } from './kinds/entity-code';
import { kubernetesCode, kubernetesManifests, kubernetesTests, kubernetesUsage } from './kinds/kubernetes';
import { libraryModuleCode, libraryModuleTests, libraryModuleUsage } from './kinds/library-module';
import { packageJson, readme, tsconfigJson } from './kinds/project-files';
import { restServiceCode, restServiceTests, restServiceUsage } from './kinds/rest-service';

interface KindGenerator {
  code(spec: OfflineSpec): GeneratedFile[];
  infra?(spec: OfflineSpec): GeneratedFile[];
  tests(spec: OfflineSpec): GeneratedFile[];
  usage(spec: OfflineSpec): string[];
  packageExtras?(spec: OfflineSpec): Parameters<typeof packageJson>[1];
}

export const GENERATORS: Record<CatalogueKind, KindGenerator> = {
  'rest-crud-service': {
    code: restServiceCode,
    tests: restServiceTests,
    usage: restServiceUsage,
    packageExtras: () => ({ scripts: { start: 'node dist/src/main.js' } }),
  },
  'cli-tool': {
    code: cliToolCode,
    tests: cliToolTests,
    usage: cliToolUsage,
    packageExtras: () => ({ bin: 'dist/src/main.js' }),
  },
  'library-module': { code: libraryModuleCode, tests: libraryModuleTests, usage: libraryModuleUsage },
  'background-worker': {
    code: backgroundWorkerCode,
    tests: backgroundWorkerTests,
    usage: backgroundWorkerUsage,
    packageExtras: () => ({ scripts: { start: 'node dist/src/main.js' } }),
  },
  'kubernetes-manifests': {
    code: kubernetesCode,
    infra: kubernetesManifests,
    tests: kubernetesTests,
    usage: kubernetesUsage,
    packageExtras: () => ({ scripts: { render: 'node dist/src/main.js' } }),
  },
};

/** codegen: the sources plus package.json and tsconfig.json. */
export const codeFiles = (spec: OfflineSpec) => [
  packageJson(spec, GENERATORS[spec.kind].packageExtras?.(spec)),
  tsconfigJson(),
  ...GENERATORS[spec.kind].code(spec),
];

export const infraFiles = (spec: OfflineSpec) => GENERATORS[spec.kind].infra?.(spec) ?? [];
export const testFiles = (spec: OfflineSpec) => GENERATORS[spec.kind].tests(spec);

/** The parameters as the README lists them. */
export function parameterLines(spec: OfflineSpec): string[] {
  if (spec.kind === 'kubernetes-manifests') {
    const k = spec.kubernetes;
    return [
      `app: \`${k.app}\``,
      `image: \`${k.image}\``,
      `replicas: ${k.replicas}`,
      `container port: ${k.port}`,
      `namespace: \`${k.namespace}\``,
    ];
  }
  const n = entityNames(spec.entity);
  const lines = [
    `entity: \`${n.type}\` (${n.label})`,
    `fields: ${spec.entity.fields.map((f) => `\`${f.name}\` (${f.type})`).join(', ')}`,
  ];
  if (spec.kind === 'rest-crud-service' || spec.kind === 'cli-tool')
    lines.push(`operations: ${spec.operations.join(', ')}`);
  if (spec.kind === 'rest-crud-service') lines.push(`port: ${spec.port}`);
  if (spec.kind === 'background-worker')
    lines.push(`concurrency: ${spec.worker.concurrency}`, `attempts per job: ${spec.worker.maxAttempts}`);
  return lines;
}

export function docFiles(spec: OfflineSpec, intentText: string): GeneratedFile[] {
  const all = [...codeFiles(spec), ...infraFiles(spec), ...testFiles(spec)]
    .map((file) => file.path)
    .concat('README.md')
    .sort();
  return [readme(spec, intentText, parameterLines(spec), GENERATORS[spec.kind].usage(spec), all)];
}
