import type { ObjectStore } from '../../adapters/storage/s3';
import type { DependencyPolicy } from '../../validation/static/dependencies';
import type { LlmReviewer } from '../../validation/static/llm-review';
import { complianceReview, type ComplianceReviewInput } from './compliance';
import { scoreValidation, type ScoreValidationInput } from './scoring';
import { staticReview, type StaticReviewInput } from './static-review';
import { validateProject, type ValidateProjectInput } from './type-check';

export type { ComplianceReviewInput, ScoreValidationInput, StaticReviewInput, ValidateProjectInput };

export interface ValidationActivityOptions {
  /** The LLM reviewer (adapters/llm); without one the LLM review is skipped (offline mode). */
  llmReviewer?: LlmReviewer;
  /** semgrep executable; default: `semgrep` on PATH, and `not_assessed` when there is none. */
  semgrepPath?: string;
  dependencyPolicy?: DependencyPolicy;
}

/** Validation layers as activities: each reads the project from S3, writes its report there, returns a summary. */
export function createValidationActivities(store: ObjectStore, options: ValidationActivityOptions = {}) {
  const staticOptions = {
    llmReviewer: options.llmReviewer,
    dependencyPolicy: options.dependencyPolicy,
    semgrep: options.semgrepPath ? { executable: options.semgrepPath } : {},
  };
  return {
    validateProject: (input: ValidateProjectInput) => validateProject(store, input),
    staticReview: (input: StaticReviewInput) => staticReview(store, staticOptions, input),
    complianceReview: (input: ComplianceReviewInput) => complianceReview(store, input),
    scoreValidation: (input: ScoreValidationInput) => scoreValidation(store, input),
  };
}
