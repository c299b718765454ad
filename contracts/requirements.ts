import { z } from 'zod';
import type { BuiltInFramework } from './validation';

// What the intent asked for, extracted at planning (agents/planning/requirements.ts), and whether the
// generated project shows it was built (validation/coverage): the requirement → evidence → test trace.

/** Security and reliability capabilities the platform can trace to code and to a test that exercised it. */
export const capabilities = [
  'authentication',
  'authorization',
  'audit-logging',
  'encryption-at-rest',
  'hmac-verification',
  'retries',
  'rate-limiting',
  'input-validation',
  'tls',
] as const;
export const Capability = z.enum(capabilities);
export type Capability = z.infer<typeof Capability>;

/** How people say it: in reports, the CLI and the Web UI. */
export const CAPABILITY_TITLES: Record<Capability, string> = {
  authentication: 'authentication',
  authorization: 'authorisation (roles, permissions)',
  'audit-logging': 'audit logging',
  'encryption-at-rest': 'encryption at rest',
  'hmac-verification': 'HMAC signature verification',
  retries: 'retries with backoff',
  'rate-limiting': 'rate limiting',
  'input-validation': 'input validation',
  tls: 'TLS (transport security)',
};

/** Frameworks an intent can claim (the built-in compliance packs). */
export const requirementFrameworks = [
  'HIPAA',
  'GDPR',
  'SOC2',
  'ISO27001',
] as const satisfies readonly BuiltInFramework[];
export const RequirementFramework = z.enum(requirementFrameworks);
export type RequirementFramework = z.infer<typeof RequirementFramework>;

export const REQUIREMENT_ID = /^R[1-9][0-9]{0,2}$/;

/**
 * One thing the intent asks for. `functional`: a sentence of the intent (what the project does);
 * `control`: a capability it must implement, or a framework it must comply with.
 */
export const Requirement = z.object({
  id: z.string().regex(REQUIREMENT_ID, 'must be R followed by a number, e.g. R1'),
  text: z.string().trim().min(1).max(500),
  kind: z.enum(['functional', 'control']),
  capability: Capability.optional(),
  framework: RequirementFramework.optional(),
});
export type Requirement = z.infer<typeof Requirement>;

/** Most requirements a plan carries: the intent's text is at most a few paragraphs. */
export const MAX_REQUIREMENTS = 30;

export const requirementStatuses = ['covered', 'not_covered', 'not_verifiable'] as const;
export const RequirementStatus = z.enum(requirementStatuses);
export type RequirementStatus = z.infer<typeof RequirementStatus>;

/** Where the project implements a requirement. */
export const CoverageEvidence = z.object({ path: z.string(), line: z.number().int().min(1), detail: z.string() });
export type CoverageEvidence = z.infer<typeof CoverageEvidence>;

/** A test of the project that exercises the requirement, and what it did in the sandbox. */
export const CoverageTest = z.object({
  name: z.string(),
  file: z.string().optional(),
  status: z.enum(['passed', 'failed', 'skipped', 'not_run']),
});
export type CoverageTest = z.infer<typeof CoverageTest>;

/** One row of the coverage table: covered = evidence in the code AND a test that exercised it and passed. */
export const RequirementCoverage = Requirement.extend({
  status: RequirementStatus,
  /** Why it is not covered or not verifiable; for covered ones, how it was traced. */
  reason: z.string(),
  /** Plan tasks that declared they cover it (empty: no task took it on). */
  coveredBy: z.array(z.string()),
  evidence: z.array(CoverageEvidence),
  tests: z.array(CoverageTest),
});
export type RequirementCoverage = z.infer<typeof RequirementCoverage>;

/** The coverage table in brief, for the gate (ValidationScoreSummary) and the capsule. */
export const CoverageSummary = z.object({
  counts: z.object({
    covered: z.number().int(),
    notCovered: z.number().int(),
    notVerifiable: z.number().int(),
  }),
  /** Every requirement's status, in plan order. */
  items: z.array(z.object({ id: z.string(), status: RequirementStatus })),
  /** The ones not covered, with why: what the approver must know was not built. */
  uncovered: z.array(
    Requirement.pick({ id: true, text: true, kind: true, capability: true, framework: true }).extend({
      reason: z.string(),
    }),
  ),
});
export type CoverageSummary = z.infer<typeof CoverageSummary>;

/** The short label of a requirement: its capability or framework, else its kind. */
export function requirementLabel(requirement: Pick<Requirement, 'kind' | 'capability' | 'framework'>): string {
  if (requirement.capability) return requirement.capability;
  if (requirement.framework) return requirement.framework;
  return requirement.kind;
}
