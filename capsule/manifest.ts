import type { FileEntry } from '../contracts/artifacts';
import { CAPSULE_FORMAT_V2, type CapsuleMetadata, type ReviewDigest } from '../contracts/capsule';
import type { DecisionRecord, PastGate } from '../contracts/decision';
import type { RepairRound } from '../contracts/validation';
import type { Plan } from '../contracts/plan';
import type { Requirement, RequirementStatus } from '../contracts/requirements';
import type { ValidationSummary } from '../contracts/validation';
import type { ApprovalPolicy } from '../contracts/workflow';

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
  /** Workflow time of packaging (capsule.json createdAt) and of the workflow's start; absent in older runs. */
  createdAt?: string;
  startedAt?: string;
  tenant?: string;
  tags?: string[];
  approvalPolicy?: Pick<ApprovalPolicy, 'required' | 'allowSelfApproval'>;
  submittedBy?: string;
  /** Which agent produced each task's files (for the provenance). */
  generators?: { taskId: string; generator: string }[];
  /** The gates decided before the approval that packages this version: the plan gate, earlier versions' decisions. */
  history?: PastGate[];
  /** The agents' repair rounds on failing validation (LLM agents only). */
  repairRounds?: RepairRound[];
}

/** The manifest at the root of every capsule; docs/capsule-format.md describes it. */
export interface CapsuleManifest {
  format: typeof CAPSULE_FORMAT_V2;
  id: string;
  intentId: string;
  version: number;
  createdAt: string;
  metadata: CapsuleMetadata;
  project: { name: string; planner: string; tasks: { id: string; type: string; description: string }[] };
  intent: string;
  validation: ValidationSummary['typecheck'] & {
    verdict?: string;
    scores?: NonNullable<ValidationSummary['score']>['scores'];
    /** The agents' repair rounds before the approved version's validation (absent when none ran). */
    repairRounds?: RepairRound[];
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
  /** The digests the approvers reviewed (absent when validation recorded no report). */
  review?: ReviewDigest;
  provenance: { workflowId: string; runId: string };
  signing: { keyId: string };
  /** Every other file in the archive but the signature envelopes, with its sha256. */
  files: FileEntry[];
}

export interface ManifestExtras {
  createdAt: string;
  metadata: CapsuleMetadata;
  review: ReviewDigest | undefined;
  keyId: string;
}

/** The manifest of a capsule holding `files` (every archive entry but the manifest itself). */
export function capsuleManifest(input: CapsuleInput, files: FileEntry[], extras: ManifestExtras): CapsuleManifest {
  const { score } = input.validation;
  return {
    format: CAPSULE_FORMAT_V2,
    id: input.capsuleId,
    intentId: input.intentId,
    version: input.version,
    createdAt: extras.createdAt,
    metadata: extras.metadata,
    project: {
      name: input.plan.projectName,
      planner: input.plan.planner,
      tasks: input.plan.tasks.map(({ id, type, description }) => ({ id, type, description })),
    },
    intent: input.intentText,
    validation: {
      ...input.validation.typecheck,
      ...(score && { verdict: score.verdict, scores: score.scores }),
      ...(input.repairRounds?.length && { repairRounds: input.repairRounds }),
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
    ...(extras.review && { review: extras.review }),
    provenance: input.workflow,
    signing: { keyId: extras.keyId },
    files,
  };
}
