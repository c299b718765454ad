import { runInNewContext } from 'node:vm';
import ts from 'typescript';
import type { GeneratedFile } from '../../generated-file';
import type { OfflineSpec } from '../catalogue';
import { header } from './header';

const YAML = `/** A JSON value: what manifests are made of. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const PLAIN = /^[A-Za-z_./][A-Za-z0-9_ ./:-]*$/;
const AMBIGUOUS = /^(true|false|yes|no|on|off|y|n|null|~)$/i;

/** A scalar as YAML: plain when unambiguous, otherwise a JSON (double-quoted) string, which YAML reads back exactly. */
function scalar(value: string | number | boolean | null): string {
  if (typeof value !== 'string') return String(value);
  const plain = PLAIN.test(value) && !AMBIGUOUS.test(value) && !value.endsWith(' ') && !value.includes(': ') && !value.includes(' #');
  return plain ? value : JSON.stringify(value);
}

const isEmpty = (value: Json) =>
  value !== null && typeof value === 'object' && (Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0);

function lines(value: Json, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (value === null || typeof value !== 'object') return [pad + scalar(value)];
  if (isEmpty(value)) return [pad + (Array.isArray(value) ? '[]' : '{}')];
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      const nested = lines(item, indent + 2);
      return [pad + '- ' + nested[0]!.slice(indent + 2), ...nested.slice(1)];
    });
  }
  return Object.entries(value).flatMap(([key, item]) => {
    const label = pad + scalar(key) + ':';
    if (item !== null && typeof item === 'object' && !isEmpty(item)) return [label, ...lines(item, indent + 2)];
    return [label + ' ' + lines(item, 0)[0]!];
  });
}

/** Deterministic block-style YAML for a JSON value. */
export function toYaml(value: Json): string {
  return lines(value, 0).join('\\n') + '\\n';
}
`;

const MANIFESTS = `export interface AppConfig {
  name: string;
  image: string;
  replicas: number;
  port: number;
  namespace: string;
}

export type Labels = Record<string, string>;
export type Metadata = { name: string; namespace: string; labels: Labels };
export type Probe = { tcpSocket: { port: string }; initialDelaySeconds: number; periodSeconds: number };
export type Container = {
  name: string;
  image: string;
  ports: { name: string; containerPort: number }[];
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  readinessProbe: Probe;
  livenessProbe: Probe;
  securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; capabilities: { drop: string[] } };
};
export type Deployment = {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: Metadata;
  spec: {
    replicas: number;
    selector: { matchLabels: Labels };
    template: {
      metadata: { labels: Labels };
      spec: { securityContext: { runAsNonRoot: boolean; seccompProfile: { type: string } }; containers: Container[] };
    };
  };
};
export type Service = {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: Metadata;
  spec: { type: 'ClusterIP'; selector: Labels; ports: { name: string; port: number; targetPort: string }[] };
};
export type PodDisruptionBudget = {
  apiVersion: 'policy/v1';
  kind: 'PodDisruptionBudget';
  metadata: Metadata;
  spec: { minAvailable: number; selector: { matchLabels: Labels } };
};
export type Manifest = Deployment | Service | PodDisruptionBudget;

/** The app's manifests: a hardened Deployment, a ClusterIP Service, and a PodDisruptionBudget when it has replicas to spare. */
export function buildManifests(config: AppConfig): Manifest[] {
  const selector: Labels = { 'app.kubernetes.io/name': config.name };
  const labels: Labels = { ...selector, 'app.kubernetes.io/managed-by': 'quantumlayer' };
  const metadata = (suffix: string): Metadata => ({ name: config.name + suffix, namespace: config.namespace, labels });
  const probe = (initialDelaySeconds: number, periodSeconds: number): Probe => ({ tcpSocket: { port: 'http' }, initialDelaySeconds, periodSeconds });
  const deployment: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(''),
    spec: {
      replicas: config.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: {
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: config.name,
              image: config.image,
              ports: [{ name: 'http', containerPort: config.port }],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
              readinessProbe: probe(5, 10),
              livenessProbe: probe(15, 20),
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
  const service: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(''),
    spec: { type: 'ClusterIP', selector, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  };
  const budget: PodDisruptionBudget = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(''),
    spec: { minAvailable: 1, selector: { matchLabels: selector } },
  };
  return config.replicas > 1 ? [deployment, service, budget] : [deployment, service];
}
`;

const RENDER = `import { buildManifests, type AppConfig } from './manifests';
import { toYaml } from './yaml';

/** One YAML file per manifest, named <app>-<kind>.yaml: what k8s/ holds. */
export function renderManifests(config: AppConfig): { path: string; content: string }[] {
  return buildManifests(config).map((manifest) => ({
    path: config.name + '-' + manifest.kind.toLowerCase() + '.yaml',
    content: toYaml(manifest),
  }));
}
`;

function configModule(spec: OfflineSpec): string {
  const k = spec.kubernetes;
  const config = { name: k.app, image: k.image, replicas: k.replicas, port: k.port, namespace: k.namespace };
  return `${header(spec.kind)}import type { AppConfig } from './manifests';

/** The parameters taken from the intent; change them here, then \`npm run render\`. */
export const config: AppConfig = ${JSON.stringify(config, null, 2)};
`;
}

/** Source files: parameters, typed manifest builder, YAML writer, renderer and the render script. */
export function kubernetesCode(spec: OfflineSpec): GeneratedFile[] {
  const main = `${header(spec.kind)}import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { config } from './config';
import { renderManifests } from './render';

/** Writes k8s/*.yaml from src/config.ts (run from the project root: npm run render). */
const dir = join(process.cwd(), 'k8s');
mkdirSync(dir, { recursive: true });
for (const file of renderManifests(config)) {
  writeFileSync(join(dir, file.path), file.content);
  console.log('wrote k8s/' + file.path);
}
`;
  return [
    { path: 'src/config.ts', content: configModule(spec), language: 'typescript' },
    { path: 'src/manifests.ts', content: header(spec.kind) + MANIFESTS, language: 'typescript' },
    { path: 'src/yaml.ts', content: header(spec.kind) + YAML, language: 'typescript' },
    { path: 'src/render.ts', content: header(spec.kind) + RENDER, language: 'typescript' },
    { path: 'src/main.ts', content: main, language: 'typescript' },
  ];
}

/**
 * k8s/*.yaml, produced by running the generated renderer itself (our own template, not LLM output),
 * so the committed YAML and `npm run render` can never disagree.
 */
export function kubernetesManifests(spec: OfflineSpec): GeneratedFile[] {
  const modules: Record<string, string> = { './yaml': YAML, './manifests': MANIFESTS, './render': RENDER };
  const loaded = new Map<string, Record<string, unknown>>();
  const load = (name: string): Record<string, unknown> => {
    const cached = loaded.get(name);
    if (cached) return cached;
    const source = modules[name];
    if (!source) throw new Error(`the kubernetes template has no module ${name}`);
    const exports: Record<string, unknown> = {};
    loaded.set(name, exports);
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    runInNewContext(js, { exports, require: load });
    return exports;
  };
  const render = load('./render').renderManifests as (config: object) => { path: string; content: string }[];
  const k = spec.kubernetes;
  return render({ name: k.app, image: k.image, replicas: k.replicas, port: k.port, namespace: k.namespace }).map(
    (file) => ({
      path: `k8s/${file.path}`,
      content: file.content,
      language: 'yaml',
    }),
  );
}

/** test/manifests.test.ts: the invariants a cluster relies on, and that k8s/ matches the renderer. */
export function kubernetesTests(spec: OfflineSpec): GeneratedFile[] {
  const k = spec.kubernetes;
  const content = `${header(spec.kind)}import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { config } from '../src/config';
import { buildManifests, type Deployment, type Service } from '../src/manifests';
import { renderManifests } from '../src/render';
import { toYaml } from '../src/yaml';

const manifests = buildManifests(config);
const deployment = manifests.find((m): m is Deployment => m.kind === 'Deployment')!;
const service = manifests.find((m): m is Service => m.kind === 'Service')!;
const podLabels = deployment.spec.template.metadata.labels;

test('the parameters from the intent are in the Deployment', () => {
  assert.equal(deployment.metadata.name, ${JSON.stringify(k.app)});
  assert.equal(deployment.metadata.namespace, ${JSON.stringify(k.namespace)});
  assert.equal(deployment.spec.replicas, ${k.replicas});
  assert.equal(deployment.spec.template.spec.containers[0]!.image, ${JSON.stringify(k.image)});
  assert.equal(deployment.spec.template.spec.containers[0]!.ports[0]!.containerPort, ${k.port});
});

test('the Deployment selector and the Service selector both match the pod labels', () => {
  for (const [key, value] of Object.entries(deployment.spec.selector.matchLabels)) assert.equal(podLabels[key], value);
  for (const [key, value] of Object.entries(service.spec.selector)) assert.equal(podLabels[key], value);
});

test('the Service targets a named container port', () => {
  const portNames = deployment.spec.template.spec.containers.flatMap((c) => c.ports.map((p) => p.name));
  for (const port of service.spec.ports) assert.ok(portNames.includes(port.targetPort), port.targetPort);
});

test('every container is hardened: resources, probes, non-root, no privilege escalation', () => {
  assert.equal(deployment.spec.template.spec.securityContext.runAsNonRoot, true);
  for (const container of deployment.spec.template.spec.containers) {
    assert.ok(container.resources.requests.cpu && container.resources.limits.memory);
    assert.equal(container.readinessProbe.tcpSocket.port, 'http');
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
  }
});

test('a PodDisruptionBudget exists exactly when there is more than one replica', () => {
  assert.equal(manifests.some((m) => m.kind === 'PodDisruptionBudget'), config.replicas > 1);
});

test('k8s/ holds exactly what the renderer produces (run npm run render after changing src/config.ts)', () => {
  for (const file of renderManifests(config)) {
    assert.equal(readFileSync(join(__dirname, '..', '..', 'k8s', file.path), 'utf8'), file.content, file.path);
  }
});

test('YAML quotes strings that would otherwise read as numbers, booleans or null', () => {
  assert.equal(toYaml({ a: 'true', b: '8080', c: 'plain', d: null, e: [] }), 'a: "true"\\nb: "8080"\\nc: plain\\nd: null\\ne: []\\n');
  assert.equal(toYaml({ list: [{ x: 1 }, 'z', 'y'] }), 'list:\\n  - x: 1\\n  - z\\n  - "y"\\n');
});
`;
  return [{ path: 'test/manifests.test.ts', content, language: 'typescript' }];
}

export function kubernetesUsage(spec: OfflineSpec): string[] {
  return [
    '```sh',
    `kubectl apply -f k8s/   # namespace ${spec.kubernetes.namespace}`,
    'npm run build && npm run render   # after changing src/config.ts',
    '```',
    '',
    'The container must listen on the named port `http`; the probes check that it accepts TCP connections.',
  ];
}
