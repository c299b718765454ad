import { posix } from 'node:path';
import type { CapsuleMetadata } from '../contracts/capsule';
import { severities, type ValidationReport } from '../contracts/validation';

// The seed's capsule metadata, derived from what the capsule holds: nothing here is asserted by an agent.

const LANGUAGES: Record<string, string> = {
  '.ts': 'TypeScript',
  '.tsx': 'TypeScript',
  '.js': 'JavaScript',
  '.mjs': 'JavaScript',
  '.cjs': 'JavaScript',
  '.py': 'Python',
  '.go': 'Go',
  '.sql': 'SQL',
  '.sh': 'Shell',
};

/** Files that name a technology by being there. */
function technologyOf(path: string): string | undefined {
  const base = posix.basename(path);
  if (base === 'Dockerfile' || base.endsWith('.Dockerfile')) return 'Docker';
  if (/^(docker-)?compose\.ya?ml$/.test(base)) return 'Docker Compose';
  if (path.startsWith('.github/workflows/')) return 'GitHub Actions';
  if (/^(k8s|kubernetes|deploy|manifests)\//.test(path) && /\.ya?ml$/.test(base)) return 'Kubernetes';
  if (base === 'package.json') return 'Node.js';
  return LANGUAGES[posix.extname(base)];
}

export interface MetadataInput {
  name: string;
  description: string;
  capsuleVersion: number;
  tags: string[];
  files: { path: string; content: Buffer }[];
  dependencies: CapsuleMetadata['dependencies'];
  /** The stored validation report, when validation produced one. */
  report: ValidationReport | undefined;
}

export function capsuleMetadata(input: MetadataInput): CapsuleMetadata {
  const technologies = new Set<string>();
  for (const file of input.files) {
    const technology = technologyOf(file.path);
    if (technology) technologies.add(technology);
  }
  for (const dependency of input.dependencies) if (dependency.scope === 'runtime') technologies.add(dependency.name);
  return {
    name: input.name,
    description: input.description,
    version: projectVersion(input.files) ?? `${input.capsuleVersion}.0.0`,
    technologies: [...technologies].sort(),
    dependencies: input.dependencies,
    securityRisk: securityRisk(input.report),
    qualityScore: input.report?.scores.quality ?? null,
    tags: input.tags,
  };
}

/** The most severe finding; `unknown` when there is no report or a layer that looks for risks did not run. */
function securityRisk(report: ValidationReport | undefined): CapsuleMetadata['securityRisk'] {
  if (!report || report.layers.static.status !== 'assessed' || report.layers.compliance.status !== 'assessed') {
    return 'unknown';
  }
  const present = new Set([...report.findings.map((f) => f.severity), ...severitiesCounted(report)]);
  return severities.find((severity) => present.has(severity)) ?? 'none';
}

/** Severities of findings cut from a bounded report still count. */
function severitiesCounted(report: ValidationReport): string[] {
  return Object.entries(report.truncated?.counts ?? {})
    .filter(([, count]) => count > 0)
    .map(([severity]) => severity);
}

function projectVersion(files: { path: string; content: Buffer }[]): string | undefined {
  const manifest = files.find((file) => file.path === 'package.json');
  if (!manifest) return undefined;
  try {
    const { version } = JSON.parse(manifest.content.toString('utf8')) as { version?: unknown };
    return typeof version === 'string' && /^[0-9A-Za-z.+-]{1,64}$/.test(version) ? version : undefined;
  } catch {
    return undefined;
  }
}
