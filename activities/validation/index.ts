import type { ObjectStore } from '../../adapters/storage/s3';
import { DEFAULT_LIMITS, type SandboxChoice } from '../../adapters/sandbox';
import type { SandboxLimits } from '../../contracts/sandbox';
import type { DependencyPolicy } from '../../validation/static/dependencies';
import type { LlmReviewer } from '../../validation/static/llm-review';
import { complianceReview, type ComplianceReviewInput } from './compliance';
import { dynamicValidation, type DynamicValidationInput } from './dynamic';
import { scoreValidation, type ScoreValidationInput } from './scoring';
import { staticReview, type StaticReviewInput } from './static-review';
import { validateProject, type ValidateProjectInput } from './type-check';

export type {
  ComplianceReviewInput,
  DynamicValidationInput,
  ScoreValidationInput,
  StaticReviewInput,
  ValidateProjectInput,
};

export interface ValidationActivityOptions {
  /** The LLM reviewer (adapters/llm); without one the LLM review is skipped (offline mode). */
  llmReviewer?: LlmReviewer;
  /** semgrep executable; default: `semgrep` on PATH, and `not_assessed` when there is none. */
  semgrepPath?: string;
  dependencyPolicy?: DependencyPolicy;
  /** Layer 2's sandbox, chosen on first use and kept once found; without one, layer 2 is "not assessed". */
  sandbox?: () => Promise<SandboxChoice>;
  sandboxLimits?: SandboxLimits;
}

/** Validation layers as activities: each reads the project from S3, writes its report there, returns a summary. */
export function createValidationActivities(store: ObjectStore, options: ValidationActivityOptions = {}) {
  const staticOptions = {
    llmReviewer: options.llmReviewer,
    dependencyPolicy: options.dependencyPolicy,
    semgrep: options.semgrepPath ? { executable: options.semgrepPath } : {},
  };
  let chosen: Promise<SandboxChoice> | undefined;
  const choose = async (): Promise<SandboxChoice> => {
    const choice: SandboxChoice = await (options.sandbox?.() ?? {
      reason: 'this worker was started without a sandbox',
    });
    if (!choice.driver) chosen = undefined; // no isolation yet: look again next time (an engine may start)
    return choice;
  };
  const dynamic = {
    sandbox: () => (chosen ??= choose()),
    limits: options.sandboxLimits ?? DEFAULT_LIMITS,
  };
  return {
    validateProject: (input: ValidateProjectInput) => validateProject(store, input),
    staticReview: (input: StaticReviewInput) => staticReview(store, staticOptions, input),
    complianceReview: (input: ComplianceReviewInput) => complianceReview(store, input),
    dynamicValidation: (input: DynamicValidationInput) => dynamicValidation(store, dynamic, input),
    scoreValidation: (input: ScoreValidationInput) => scoreValidation(store, input),
  };
}
