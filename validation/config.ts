import { z } from 'zod';
import type { Section } from '../config/setting';
import type { Thresholds } from '../contracts/validation';
import { builtInFrameworks, type BuiltInFramework } from './compliance/schema';
import { DEFAULT_THRESHOLDS } from './scoring';

const score = z.coerce.number().int().min(0, 'must be 0–100').max(100, 'must be 0–100');

const validation: Section = { title: 'Validation (docs/validation.md)' };

/**
 * Validation settings from the environment. config/index.ts spreads `validationEnvShape` into its
 * schema and calls `toValidationConfig`; each variable is declared here with its documentation
 * (rendered into .env.example) and explained further in docs/validation.md.
 */
export const validationEnvShape = {
  VALIDATION_MIN_CONFIDENCE_SCORE: score.prefault(String(DEFAULT_THRESHOLDS.minConfidenceScore)).meta({
    section: validation,
    doc: 'Verdict thresholds, scores 0–100: the verdict is "passed" only when every one is met.',
  }),
  VALIDATION_SECURITY_THRESHOLD: score
    .prefault(String(DEFAULT_THRESHOLDS.securityThreshold))
    .meta({ section: validation }),
  VALIDATION_QUALITY_THRESHOLD: score
    .prefault(String(DEFAULT_THRESHOLDS.qualityThreshold))
    .meta({ section: validation }),
  VALIDATION_COMPLIANCE_THRESHOLD: score
    .prefault(String(DEFAULT_THRESHOLDS.complianceThreshold))
    .meta({ section: validation }),
  VALIDATION_FRAMEWORKS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(
          z.enum(builtInFrameworks, { error: `must be a comma-separated subset of ${builtInFrameworks.join(', ')}` }),
        )
        .min(1),
    )
    .prefault(builtInFrameworks.join(','))
    .meta({
      section: validation,
      doc: `Compliance frameworks that apply, comma-separated subset of ${builtInFrameworks.join(',')}.`,
    }),
  SEMGREP_PATH: z.string().min(1).optional().meta({
    section: validation,
    doc: 'semgrep executable (PyPI `semgrep`); empty: looked up on PATH, and "not assessed" when absent.',
  }),
};

export const validationEnvSchema = z.object(validationEnvShape);
export type ValidationEnv = z.infer<typeof validationEnvSchema>;

export interface ValidationConfig {
  thresholds: Thresholds;
  frameworks: BuiltInFramework[];
  semgrepPath?: string;
}

export function toValidationConfig(env: ValidationEnv): ValidationConfig {
  return {
    thresholds: {
      minConfidenceScore: env.VALIDATION_MIN_CONFIDENCE_SCORE,
      securityThreshold: env.VALIDATION_SECURITY_THRESHOLD,
      qualityThreshold: env.VALIDATION_QUALITY_THRESHOLD,
      complianceThreshold: env.VALIDATION_COMPLIANCE_THRESHOLD,
    },
    frameworks: env.VALIDATION_FRAMEWORKS,
    ...(env.SEMGREP_PATH && { semgrepPath: env.SEMGREP_PATH }),
  };
}
