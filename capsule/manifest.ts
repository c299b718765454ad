import type { FileEntry } from '../contracts/artifacts';
import type { DecisionRecord } from '../contracts/decision';
import type { Plan } from '../contracts/plan';
import type { Requirement, RequirementStatus } from '../contracts/requirements';
import type { ValidationSummary } from '../contracts/validation';

export const CAPSULE_FORMAT = 'quantumcapsule/v1';

/** What a capsule records about the approved intent, besides its files and reports. */
export interface CapsuleInput {
  capsuleId: string;
  intentId: string;
  intentText: string;
  version: number;
  plan: Plan;
  validation: ValidationSummary;
  approval: DecisionRecord;
  workflow: { workflowId: string; runId: string };
}

/** The manifest at the root of every capsule; docs/capsule-format.md describes it. */
export interface CapsuleManifest {
  format: typeof CAPSULE_FORMAT;
  id: string;
  intentId: string;
  version: number;
  createdAt: string;
  project: { name: string; planner: string; tasks: { id: string; type: string; description: string }[] };
  intent: string;
  validation: ValidationSummary['typecheck'] & {
    verdict?: string;
    scores?: NonNullable<ValidationSummary['score']>['scores'];
  };
  /**
   * What the intent asked for (the plan's requirements), which tasks took each on, and what validation
   * found: covered (code evidence and a passing test), not covered, not verifiable. The evidence and the
   * tests are in reports/validation-report.json. Absent for plans without requirements.
   */
  requirements?: (Requirement & { coveredBy: string[]; status?: RequirementStatus })[];
  /** Who approved, how they were authenticated, when, and the review digest they approved. */
  approval: {
    decision: string;
    approver: string;
    reason?: string;
    via?: string;
    decidedAt?: string;
    digest?: string;
    authenticated?: boolean;
    approvals?: { name: string; subject: string; method: string; via: string; decidedAt: string; digest?: string }[];
  };
  provenance: { workflowId: string; runId: string };
  /** Every other file in the archive, with its sha256. */
  files: FileEntry[];
}

/** The manifest of a capsule holding `files` (every archive entry but the manifest itself). */
export function capsuleManifest(input: CapsuleInput, files: FileEntry[], createdAt: Date): CapsuleManifest {
  const { score } = input.validation;
  return {
    format: CAPSULE_FORMAT,
    id: input.capsuleId,
    intentId: input.intentId,
    version: input.version,
    createdAt: createdAt.toISOString(),
    project: {
      name: input.plan.projectName,
      planner: input.plan.planner,
      tasks: input.plan.tasks.map(({ id, type, description }) => ({ id, type, description })),
    },
    intent: input.intentText,
    validation: {
      ...input.validation.typecheck,
      ...(score && { verdict: score.verdict, scores: score.scores }),
    },
    ...(input.plan.requirements && {
      requirements: input.plan.requirements.map((requirement) => {
        const status = score?.coverage?.items.find((item) => item.id === requirement.id)?.status;
        return {
          ...requirement,
          coveredBy: input.plan.tasks.filter((t) => t.covers?.includes(requirement.id)).map((t) => t.id),
          ...(status && { status }),
        };
      }),
    }),
    approval: {
      decision: input.approval.decision,
      approver: input.approval.approver,
      reason: input.approval.reason,
      via: input.approval.via,
      decidedAt: input.approval.decidedAt,
      digest: input.approval.digest,
      authenticated: input.approval.authenticated,
      approvals: input.approval.approvals?.map(({ name, subject, method, via, decidedAt, digest }) => ({
        name,
        subject,
        method,
        via,
        decidedAt,
        ...(digest && { digest }),
      })),
    },
    provenance: input.workflow,
    files,
  };
}
