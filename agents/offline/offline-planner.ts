import type { Plan, PlannedTask } from '../../contracts/plan';
import type { Requirement } from '../../contracts/requirements';
import { OFFLINE_USAGE } from '../../contracts/usage';
import { extractRequirements } from '../planning/requirements';
import { implementedCapabilities, OFFLINE_GENERATOR, recognise, type OfflineSpec } from './catalogue';
import { entityNames } from './kinds/entity-code';
import { titleOf } from './kinds/project-files';

export type OfflinePlan = { ok: true; plan: Plan } | { ok: false; reason: string };

/**
 * The offline planner: a catalogue intent becomes the same small DAG every time (code → infra →
 * tests, docs), with the parameters in each task's metadata so every agent regenerates its part
 * deterministically. Anything outside the catalogue is refused with how to configure an LLM.
 */
export function planOffline(text: string): OfflinePlan {
  const recognised = recognise(text);
  if (!recognised.ok) return recognised;
  const spec = recognised.spec;
  const metadata = { offline: spec };
  const subject = spec.kind === 'kubernetes-manifests' ? spec.kubernetes.app : entityNames(spec.entity).pluralLabel;
  const k8s = spec.kind === 'kubernetes-manifests';
  const requirements = extractRequirements(text);
  const covers = coveredBy(spec, requirements);
  const tasks: PlannedTask[] = [
    {
      id: 'module',
      type: 'codegen',
      description: `${titleOf(spec)}: source for ${subject}`,
      dependencies: [],
      priority: 10,
      metadata,
      covers: covers.code,
    },
    ...(k8s
      ? [
          {
            id: 'manifests',
            type: 'infra' as const,
            description: `Render the Kubernetes YAML for ${subject}`,
            dependencies: ['module'],
            priority: 8,
            metadata,
            covers: covers.functional,
          },
        ]
      : []),
    {
      id: 'check',
      type: 'test',
      description: `Tests for ${subject} (node:test)`,
      dependencies: k8s ? ['module', 'manifests'] : ['module'],
      priority: 5,
      metadata,
      covers: covers.code,
    },
    {
      id: 'readme',
      type: 'doc',
      description: `Document ${spec.projectName}`,
      dependencies: ['module'],
      priority: 1,
      metadata,
      covers: covers.functional,
    },
  ];
  return {
    ok: true,
    plan: {
      planner: `${OFFLINE_GENERATOR}: ${spec.kind}`,
      projectName: spec.projectName,
      mode: 'offline',
      usage: OFFLINE_USAGE,
      tasks,
      requirements,
    },
  };
}

/**
 * What the catalogue's tasks take on: code and tests cover the functional requirements, the frameworks
 * and the capabilities this kind implements; a capability it does not implement is covered by no task
 * (the plan's assumptions say so, and validation reports it as not covered).
 */
function coveredBy(spec: OfflineSpec, requirements: Requirement[]): { code: string[]; functional: string[] } {
  const implemented = implementedCapabilities(spec);
  return {
    code: requirements.filter((r) => !r.capability || implemented.includes(r.capability)).map((r) => r.id),
    functional: requirements.filter((r) => r.kind === 'functional').map((r) => r.id),
  };
}

export type { OfflineSpec };
