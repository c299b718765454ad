import { z } from 'zod';
import type { Thresholds } from '../contracts/validation';
import { builtInFrameworks, type BuiltInFramework } from './compliance/schema';
import { DEFAULT_THRESHOLDS } from './scoring';

const score = z.coerce.number().int().min(0, 'must be 0–100').max(100, 'must be 0–100');

/**
 * Validation settings from the environment. config/index.ts can spread `validationEnvShape` into its
 * schema and call `toValidationConfig`; each variable is documented in docs/validation.md.
 */
export const validationEnvShape = {
  VALIDATION_MIN_CONFIDENCE_SCORE: score.default(DEFAULT_THRESHOLDS.minConfidenceScore),
  VALIDATION_SECURITY_THRESHOLD: score.default(DEFAULT_THRESHOLDS.securityThreshold),
  VALIDATION_QUALITY_THRESHOLD: score.default(DEFAULT_THRESHOLDS.qualityThreshold),
  VALIDATION_COMPLIANCE_THRESHOLD: score.default(DEFAULT_THRESHOLDS.complianceThreshold),
  VALIDATION_FRAMEWORKS: z
    .string()
    .default(builtInFrameworks.join(','))
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
    ),
  /** Path of the semgrep executable; empty means look it up on PATH. */
  SEMGREP_PATH: z.string().min(1).optional(),
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
