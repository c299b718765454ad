import type { RequirementCoverage } from '../contracts/requirements';
import type { ComplianceReport, StaticReport } from '../contracts/validation';
import { runCompliance, type ComplianceOptions } from './compliance/engine';
import { analyseCoverage, type CoverageInput } from './coverage/analyse';
import type { Project } from './project';
import { runStaticReview, type StaticReviewOptions } from './static';
import { typeCheck as checkTypes, type TypeCheckResult } from './static/typescript';

// The CPU-heavy parts of validation, as tasks for a compute thread (adapters/compute): each takes and
// returns plain data, so it can run off the event loop that serves Temporal and HTTP.

export function typeCheck({ project }: { project: Project }): TypeCheckResult {
  return checkTypes(project, { nodeTypes: true });
}

/** Layer 1 without semgrep and the LLM review, which run on the caller's thread (`withSemgrep`, `withLlmReview`). */
export function codeReview(input: {
  project: Project;
  intentId: string;
  typecheck?: TypeCheckResult;
  options: Pick<StaticReviewOptions, 'dependencyPolicy'>;
}): Promise<StaticReport> {
  // semgrep runs on the caller's thread (withSemgrep): a child process must not outlive its thread.
  const options = { ...input.options, semgrep: 'separately' as const, typecheck: input.typecheck };
  return runStaticReview(input.project, { intentId: input.intentId }, options);
}

export function compliance(input: {
  project: Project;
  intentId: string;
  options: Pick<ComplianceOptions, 'frameworks' | 'claimed' | 'customRules' | 'customRulesErrors'>;
}): Promise<ComplianceReport> {
  return runCompliance(input.project, { intentId: input.intentId }, input.options);
}

/** Requirement coverage: each requirement traced to code and to a test that passed in the sandbox. */
export function coverage(input: CoverageInput): RequirementCoverage[] {
  return analyseCoverage(input);
}
