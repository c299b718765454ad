import { NO_SANDBOX, type SandboxProvider } from '../../adapters/sandbox';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { SandboxLimits } from '../../contracts/sandbox';
import type { DependencyPolicy } from '../../validation/static/dependencies';
import { failingArtifacts } from '../failures';
import { INLINE, ProjectAnalysis, type ValidationPool } from './analysis';
import { complianceReview, type ComplianceReviewInput } from './compliance-review';
import { dynamicValidation, type DynamicValidationInput } from './dynamic-validation';
import { scoreValidation, type ScoreValidationInput } from './score-validation';
import { staticReview, type LlmReviewers, type StaticReviewInput } from './static-review';
import { validateProject, type ValidateProjectInput } from './validate-project';

export type {
  ComplianceReviewInput,
  DynamicValidationInput,
  ScoreValidationInput,
  StaticReviewInput,
  ValidateProjectInput,
};

export interface ValidationActivityOptions {
  /** Makes each intent's LLM reviewer (adapters/llm/reviewer.ts); without it the LLM review is skipped (offline mode). */
  llmReviewers?: LlmReviewers;
  /** semgrep executable; default: `semgrep` on PATH, and `not_assessed` when there is none. */
  semgrepPath?: string;
  dependencyPolicy?: DependencyPolicy;
  /** Layer 2's sandbox (adapters/sandbox/selection.ts); without one, layer 2 is "not assessed". */
  sandbox?: SandboxProvider;
  /** Limits of each layer-2 run; default: the sandbox's. */
  sandboxLimits?: SandboxLimits;
  /** Where the CPU-heavy checks run: the validation worker's thread pool; inline when absent (unit tests). */
  pool?: ValidationPool;
}

/** Validation layers as activities: each reads the project from S3, writes its report there, returns a summary. */
export function createValidationActivities(store: ObjectStore, options: ValidationActivityOptions = {}) {
  const analysis = new ProjectAnalysis(options.pool ?? INLINE, {
    dependencyPolicy: options.dependencyPolicy,
    semgrep: options.semgrepPath ? { executable: options.semgrepPath } : {},
  });
  const sandbox = options.sandbox ?? NO_SANDBOX;
  const dynamic = { sandbox, limits: options.sandboxLimits ?? sandbox.limits, analysis };
  return {
    validateProject: failingArtifacts((input: ValidateProjectInput) => validateProject(store, analysis, input)),
    staticReview: failingArtifacts((input: StaticReviewInput) =>
      staticReview(store, analysis, options.llmReviewers, input),
    ),
    complianceReview: failingArtifacts((input: ComplianceReviewInput) => complianceReview(store, analysis, input)),
    dynamicValidation: failingArtifacts((input: DynamicValidationInput) => dynamicValidation(store, dynamic, input)),
    scoreValidation: failingArtifacts((input: ScoreValidationInput) =>
      scoreValidation(store, input, options.pool ?? INLINE),
    ),
  };
}
