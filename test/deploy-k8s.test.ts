import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { envSchema } from '../config';

// deploy/k8s/ checked against the Kubernetes JSON schemas by kubernetes-validate (PyPI; its schemas ship in the
// package, so it works offline; .ci/run installs it into .tools/kubernetes-validate), then against our own rules.
const root = resolve(__dirname, '..');
const manifestsDir = join(root, 'deploy', 'k8s');
const manifests = readdirSync(manifestsDir)
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => join(manifestsDir, file));
const scratch = mkdtempSync(join(tmpdir(), 'qlp-k8s-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function validator(): string {
  const installed = join(root, '.tools', 'kubernetes-validate', 'bin', 'kubernetes-validate');
  if (existsSync(installed)) return installed;
  const onPath = spawnSync('sh', ['-c', 'command -v kubernetes-validate'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  throw new Error(
    'kubernetes-validate is missing: python3 -m venv .tools/kubernetes-validate && .tools/kubernetes-validate/bin/pip install kubernetes-validate==1.37.0 (.ci/run does)',
  );
}

const validate = (files: string[]) =>
  spawnSync(validator(), ['--strict', '--kubernetes-version', '1.33', ...files], { encoding: 'utf8' });

interface Resource {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}
const resources: Resource[] = manifests.flatMap((file) =>
  parseAllDocuments(readFileSync(file, 'utf8')).map((document) => document.toJS() as Resource),
);
const ofKind = (kind: string) => resources.filter((resource) => resource.kind === kind);
const named = (kind: string, name: string) => ofKind(kind).find((resource) => resource.metadata.name === name)!;

test('every manifest is valid against the Kubernetes schemas', () => {
  const result = validate(manifests);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  // one "passed" line per resource: nothing was skipped
  expect(result.stdout.match(/ passed for resource /g)).toHaveLength(resources.length);
});

test('a broken manifest fails validation, naming the problem', () => {
  const original = readFileSync(join(manifestsDir, 'api.yaml'), 'utf8');
  const breakages = [
    { change: ['replicas: 3', 'replicas: three'], reported: /spec\.replicas: 'three' is not of type 'integer'/ },
    // --strict: a misspelt field is an error, not silently dropped as the API server would
    { change: ['initialDelaySeconds: 30', 'initialDelay: 30'], reported: /'initialDelay' was unexpected/ },
  ];
  for (const { change, reported } of breakages) {
    const broken = join(scratch, 'api.yaml');
    writeFileSync(broken, original.replace(change[0]!, change[1]!));
    const result = validate([broken]);
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(reported);
  }
});

test('the API runs 3 replicas with health probes; each Deployment has resources, a PDB and secrets by reference', () => {
  const api = named('Deployment', 'quantumlayer-api');
  expect(api.spec.replicas).toBe(3);
  const [container] = api.spec.template.spec.containers;
  const port = container.ports.find((p: { name: string }) => p.name === 'http').containerPort;
  expect(container.env).toContainEqual({ name: 'API_PORT', value: String(port) });
  for (const probe of [container.readinessProbe, container.livenessProbe]) {
    expect(probe.httpGet).toEqual({ path: '/api/v1/health', port: 'http' });
  }
  const roles = ofKind('Deployment').map((deployment) => deployment.spec.template.spec.containers[0].env);
  expect(roles.map((env) => env.find((e: { name: string }) => e.name === 'WORKER_ROLES')?.value)).toEqual(
    expect.arrayContaining(['orchestration', 'validation']),
  );

  const settings = new Set(Object.keys(envSchema.shape));
  const configMap = named('ConfigMap', 'quantumlayer-config');
  expect(Object.keys(configMap.data!).filter((key) => !settings.has(key))).toEqual([]);
  const secretSettings = ['DATABASE_URL', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'APPROVAL_SIGNING_KEY', 'OPENAI_API_KEY'];
  for (const secret of secretSettings) expect(configMap.data).not.toHaveProperty(secret);

  const workloads = [...ofKind('Deployment'), ...ofKind('Job')];
  expect(workloads.map((workload) => workload.metadata.name).sort()).toEqual([
    'quantumlayer-api',
    'quantumlayer-bring-up',
    'quantumlayer-worker-orchestration',
    'quantumlayer-worker-validation',
  ]);
  for (const workload of workloads) {
    const pod = workload.spec.template.spec;
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    for (const c of pod.containers) {
      expect(c.resources.requests).toEqual({ cpu: expect.anything(), memory: expect.anything() });
      expect(c.resources.limits).toEqual({ cpu: expect.anything(), memory: expect.anything() });
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      for (const env of c.env as { name: string; value?: string; valueFrom?: unknown }[]) {
        expect(settings.has(env.name)).toBe(true);
        if (secretSettings.includes(env.name)) {
          expect(env.value).toBeUndefined();
          expect(env.valueFrom).toEqual({
            secretKeyRef: expect.objectContaining({ name: 'quantumlayer-secrets', key: env.name }),
          });
        }
      }
    }
  }
  // Each Deployment's pods are covered by a PodDisruptionBudget selecting exactly its labels.
  for (const deployment of ofKind('Deployment')) {
    const labels = deployment.spec.template.metadata.labels;
    const budgets = ofKind('PodDisruptionBudget').filter((pdb) =>
      Object.entries(pdb.spec.selector.matchLabels).every(([key, value]) => labels[key] === value),
    );
    expect(budgets).toHaveLength(1);
    expect(deployment.spec.selector.matchLabels).toEqual(budgets[0]!.spec.selector.matchLabels);
  }
  // Default deny, then the API's port only; every resource in the one namespace.
  const policies = ofKind('NetworkPolicy');
  expect(policies.find((policy) => Object.keys(policy.spec.podSelector).length === 0)?.spec.policyTypes).toEqual([
    'Ingress',
    'Egress',
  ]);
  expect(named('NetworkPolicy', 'quantumlayer-api-ingress').spec.ingress).toEqual([
    { ports: [{ protocol: 'TCP', port }] },
  ]);
  // Workers: metrics (liveness, and Prometheus from the monitoring namespace) on the port WORKER_METRICS_BIND names.
  for (const role of ['orchestration', 'validation']) {
    const [worker] = named('Deployment', `quantumlayer-worker-${role}`).spec.template.spec.containers;
    const metricsPort = worker.ports.find((p: { name: string }) => p.name === 'metrics').containerPort;
    expect(worker.env).toContainEqual({ name: 'WORKER_METRICS_BIND', value: `0.0.0.0:${metricsPort}` });
    expect(worker.livenessProbe.httpGet).toEqual({ path: '/metrics', port: 'metrics' });
  }
  const metricsIngress = named('NetworkPolicy', 'quantumlayer-worker-metrics').spec.ingress;
  expect(metricsIngress.flatMap((rule: { ports: { port: number }[] }) => rule.ports.map((p) => p.port))).toEqual([
    9464, 9465,
  ]);
  for (const resource of resources.filter((r) => r.kind !== 'Namespace'))
    expect(resource.metadata.namespace).toBe('quantumlayer');
});
