import type { FileEntry } from '../contracts/artifacts';
import { CAPSULE_PATHS } from '../contracts/capsule';
import { sha256 } from '../contracts/digest';
import type { Plan } from '../contracts/plan';
import type { ValidationReport } from '../contracts/validation';

// An in-toto Statement v1 with an SLSA Provenance v1 predicate: what was built, from what, by whom.
// https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md, https://slsa.dev/spec/v1.0/provenance

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const BUILD_TYPE = 'https://quantumlayer.dev/capsule-build/v1';

export interface ProvenanceInput {
  platform: { name: string; version: string };
  intentText: string;
  tenant: string;
  tags: string[];
  plan: Plan;
  /** Which agent produced each task's files (ArtifactRef.generator). */
  generators: { taskId: string; generator: string }[];
  report: ValidationReport | undefined;
  workflow: { workflowId: string; runId: string };
  startedOn: string;
  finishedOn: string;
}

export interface ProvenanceStatement {
  _type: typeof STATEMENT_TYPE;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: typeof SLSA_PROVENANCE_V1;
  predicate: {
    buildDefinition: {
      buildType: typeof BUILD_TYPE;
      externalParameters: Record<string, unknown>;
      internalParameters: Record<string, unknown>;
      resolvedDependencies: { name: string; digest: { sha256: string } }[];
    };
    runDetails: {
      builder: { id: string; version: Record<string, string> };
      metadata: { invocationId: string; startedOn: string; finishedOn: string };
    };
  };
}

/** The statement over `subjects` (every manifest entry but the statement itself), in path order. */
export function provenanceStatement(input: ProvenanceInput, subjects: FileEntry[]): ProvenanceStatement {
  const { plan, report } = input;
  return {
    _type: STATEMENT_TYPE,
    subject: subjects
      .filter((file) => file.path !== CAPSULE_PATHS.provenance)
      .map((file) => ({ name: file.path, digest: { sha256: file.sha256 } })),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          intent: { sha256: sha256(input.intentText) },
          tenant: input.tenant,
          tags: input.tags,
        },
        internalParameters: {
          planner: { id: plan.planner, mode: plan.mode ?? null },
          agents: input.generators,
          validation: report
            ? {
                checks: report.checks.map((check) => ({ tool: check.tool, version: check.version ?? null })),
                frameworks: report.frameworks.map((f) => ({ framework: f.framework, version: f.version })),
                thresholds: report.thresholds,
              }
            : null,
        },
        resolvedDependencies: [{ name: 'plan.json', digest: { sha256: sha256(JSON.stringify(plan)) } }],
      },
      runDetails: {
        builder: { id: `${input.platform.name}/worker`, version: { [input.platform.name]: input.platform.version } },
        metadata: {
          invocationId: `${input.workflow.workflowId}/${input.workflow.runId}`,
          startedOn: input.startedOn,
          finishedOn: input.finishedOn,
        },
      },
    },
  };
}
