import type { Plan, PlannedTask } from '../../contracts/plan';
import { OFFLINE_USAGE } from '../../contracts/usage';
import { OFFLINE_GENERATOR, recognise, type OfflineSpec } from './catalogue';
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
  const tasks: PlannedTask[] = [
    {
      id: 'module',
      type: 'codegen',
      description: `${titleOf(spec)}: source for ${subject}`,
      dependencies: [],
      priority: 10,
      metadata,
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
    },
    {
      id: 'readme',
      type: 'doc',
      description: `Document ${spec.projectName}`,
      dependencies: ['module'],
      priority: 1,
      metadata,
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
    },
  };
}

export type { OfflineSpec };
