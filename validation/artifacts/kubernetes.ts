import { imagePinning } from './dockerfile';
import { artifactFinding, type ArtifactRule } from './rule';
import type { Finding } from '../../contracts/validation';
import type { YamlDoc, YamlNode } from './yaml-doc';

export const K8S_RULES = {
  privileged: {
    id: 'k8s/privileged',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-250'],
    remediation: 'Run containers unprivileged: drop privileged: true (it is root on the node).',
  },
  privilegeEscalation: {
    id: 'k8s/privilege-escalation',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-269'],
    remediation: 'Set securityContext.allowPrivilegeEscalation: false on every container.',
  },
  hostPath: {
    id: 'k8s/host-path',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-250'],
    remediation: 'Use persistent volumes, configMaps or emptyDir instead of mounting the node’s filesystem.',
  },
  hostNamespace: {
    id: 'k8s/host-namespace',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-250'],
    remediation: 'Do not share the node’s network, process or IPC namespace (hostNetwork/hostPID/hostIPC).',
  },
  root: {
    id: 'k8s/runs-as-root',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-250'],
    remediation: 'Set securityContext.runAsNonRoot: true (and a non-zero runAsUser) for the pod or every container.',
  },
  unpinnedImage: {
    id: 'k8s/unpinned-image',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-1104'],
    remediation: 'Pin images to a version tag, better a digest.',
  },
  noLimits: {
    id: 'k8s/no-resource-limits',
    severity: 'medium',
    category: 'security',
    cwe: ['CWE-770'],
    remediation: 'Set resources.limits.cpu and resources.limits.memory on every container.',
  },
  capabilities: {
    id: 'k8s/added-capabilities',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-250'],
    remediation: 'Drop ALL capabilities and add back only what is needed, never SYS_ADMIN, NET_ADMIN or ALL.',
  },
  dockerSocket: {
    id: 'container/docker-socket',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-250'],
    remediation: 'Never mount the Docker socket into a container: it is root on the host.',
  },
} as const satisfies Record<string, ArtifactRule>;

const DANGEROUS_CAPABILITIES = new Set([
  'SYS_ADMIN',
  'NET_ADMIN',
  'ALL',
  'SYS_PTRACE',
  'SYS_MODULE',
  'DAC_READ_SEARCH',
]);
const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];

export const isKubernetesDoc = (y: YamlDoc) =>
  y.text(y.get(y.root, 'apiVersion')) !== undefined && y.text(y.get(y.root, 'kind')) !== undefined;

function capabilityFindings(y: YamlDoc, added: YamlNode, path: string, where: string, rule: ArtifactRule): Finding[] {
  return y.items(added).flatMap((item) => {
    const name = y.text(item)?.toUpperCase().replace(/^CAP_/, '');
    if (!name) return [];
    const severity = DANGEROUS_CAPABILITIES.has(name) ? rule.severity : 'low';
    return [artifactFinding(rule, path, y.line(item), `${where} adds capability ${name}`, severity)];
  });
}

/** One pod spec (wherever the kind nests it): host namespaces, hostPath, users and every container. */
function podFindings(y: YamlDoc, pod: YamlNode, path: string): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: ArtifactRule, node: YamlNode, message: string, severity = rule.severity) =>
    findings.push(artifactFinding(rule, path, y.line(node, y.line(pod)), message, severity));
  for (const key of ['hostNetwork', 'hostPID', 'hostIPC']) {
    const node = y.get(pod, key);
    if (y.bool(node)) add(K8S_RULES.hostNamespace, node, `${key}: true shares the node's namespace`);
  }
  for (const volume of y.items(y.get(pod, 'volumes'))) {
    const hostPath = y.get(volume, 'hostPath');
    if (hostPath === undefined) continue;
    const target = y.text(y.get(hostPath, 'path')) ?? '';
    if (target.includes('docker.sock') || target.includes('containerd.sock'))
      add(K8S_RULES.dockerSocket, hostPath, `volume mounts the container runtime socket ${target}`);
    else add(K8S_RULES.hostPath, hostPath, `volume mounts the node path ${target || '(unknown)'}`);
  }
  const podContext = y.get(pod, 'securityContext');
  const podNonRoot = y.bool(y.get(podContext, 'runAsNonRoot')) === true;
  const podUser = y.text(y.get(podContext, 'runAsUser'));
  // An explicit uid 0 is a choice to run as root, worse than a missing guard.
  if (podUser === '0') add(K8S_RULES.root, y.get(podContext, 'runAsUser'), 'the pod runs as uid 0 (root)', 'high');

  for (const list of CONTAINER_LISTS) {
    for (const container of y.items(y.get(pod, list))) {
      const name = y.text(y.get(container, 'name')) ?? '(unnamed)';
      const where = `container ${name}`;
      const context = y.get(container, 'securityContext');
      const privileged = y.get(context, 'privileged');
      if (y.bool(privileged)) add(K8S_RULES.privileged, privileged, `${where} is privileged`);
      const escalation = y.get(context, 'allowPrivilegeEscalation');
      if (y.bool(escalation) !== false)
        add(
          K8S_RULES.privilegeEscalation,
          escalation ?? container,
          `${where} does not set allowPrivilegeEscalation: false`,
        );
      const user = y.text(y.get(context, 'runAsUser'));
      const nonRoot = y.bool(y.get(context, 'runAsNonRoot'));
      if (user === '0') add(K8S_RULES.root, y.get(context, 'runAsUser'), `${where} runs as uid 0 (root)`, 'high');
      else if (!(nonRoot ?? podNonRoot) && !(Number(user ?? podUser) > 0))
        add(K8S_RULES.root, container, `${where} may run as root: no runAsNonRoot: true and no non-zero runAsUser`);
      const image = y.get(container, 'image');
      const ref = y.text(image);
      const pinning = ref && !ref.includes('$') ? imagePinning(ref) : undefined;
      if (pinning)
        add(
          K8S_RULES.unpinnedImage,
          image,
          `${where} image ${ref} is ${pinning === 'latest' ? 'tagged latest' : 'not tagged'}`,
        );
      if (list !== 'ephemeralContainers') {
        const limits = y.path(container, 'resources', 'limits');
        const missing = ['cpu', 'memory'].filter((key) => y.get(limits, key) === undefined);
        if (missing.length) add(K8S_RULES.noLimits, container, `${where} has no ${missing.join(' or ')} limit`);
      }
      findings.push(
        ...capabilityFindings(y, y.path(context, 'capabilities', 'add'), path, where, K8S_RULES.capabilities),
      );
    }
  }
  return findings;
}

/** A Kubernetes document: every pod spec in it (Pod, workload templates, CronJob job templates, lists). */
export function reviewKubernetes(y: YamlDoc, path: string): Finding[] {
  const findings: Finding[] = [];
  for (const map of y.maps()) {
    if (y.items(y.get(map, 'containers')).length > 0) findings.push(...podFindings(y, map, path));
  }
  return findings;
}

export const COMPOSE_RULES = {
  privileged: { ...K8S_RULES.privileged, id: 'compose/privileged' },
  hostNamespace: {
    ...K8S_RULES.hostNamespace,
    id: 'compose/host-namespace',
    remediation: 'Use the default bridge network and namespaces: no network_mode/pid/ipc: host.',
  },
  capabilities: { ...K8S_RULES.capabilities, id: 'compose/added-capabilities' },
  unconfined: {
    id: 'compose/unconfined',
    severity: 'high',
    category: 'security',
    cwe: ['CWE-250'],
    remediation: 'Keep the default seccomp and AppArmor profiles and no-new-privileges.',
  },
  unpinnedImage: { ...K8S_RULES.unpinnedImage, id: 'compose/unpinned-image' },
} as const satisfies Record<string, ArtifactRule>;

export const isComposeDoc = (y: YamlDoc) =>
  y.get(y.root, 'apiVersion') === undefined &&
  y
    .entries(y.get(y.root, 'services'))
    .some(([, service]) => y.get(service, 'image') !== undefined || y.get(service, 'build') !== undefined);

/** A Compose file: privileged services, host namespaces, the Docker socket, capabilities, image tags. */
export function reviewCompose(y: YamlDoc, path: string): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: ArtifactRule, node: YamlNode, fallback: YamlNode, message: string) =>
    findings.push(artifactFinding(rule, path, y.line(node, y.line(fallback)), message));
  for (const [name, service] of y.entries(y.get(y.root, 'services'))) {
    const where = `service ${name}`;
    const privileged = y.get(service, 'privileged');
    if (y.bool(privileged)) add(COMPOSE_RULES.privileged, privileged, service, `${where} is privileged`);
    for (const key of ['network_mode', 'pid', 'ipc', 'userns_mode', 'uts']) {
      const node = y.get(service, key);
      if (y.text(node)?.toLowerCase() === 'host')
        add(COMPOSE_RULES.hostNamespace, node, service, `${where} uses ${key}: host`);
    }
    for (const volume of y.items(y.get(service, 'volumes'))) {
      const source = y.text(volume) ?? y.text(y.get(volume, 'source')) ?? '';
      if (source.includes('docker.sock') || source.includes('containerd.sock'))
        add(K8S_RULES.dockerSocket, volume, service, `${where} mounts the container runtime socket`);
    }
    for (const option of y.items(y.get(service, 'security_opt'))) {
      const text = y.text(option)?.toLowerCase() ?? '';
      if (text.includes('unconfined') || text.replace(/\s/g, '') === 'no-new-privileges:false')
        add(COMPOSE_RULES.unconfined, option, service, `${where} sets security_opt ${text}`);
    }
    findings.push(...capabilityFindings(y, y.get(service, 'cap_add'), path, where, COMPOSE_RULES.capabilities));
    const image = y.get(service, 'image');
    const ref = y.text(image);
    const pinning = ref && !ref.includes('$') && y.get(service, 'build') === undefined ? imagePinning(ref) : undefined;
    if (pinning)
      add(
        COMPOSE_RULES.unpinnedImage,
        image,
        service,
        `${where} image ${ref} is ${pinning === 'latest' ? 'tagged latest' : 'not tagged'}`,
      );
  }
  return findings;
}
