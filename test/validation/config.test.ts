import { toValidationConfig, validationEnvSchema } from '../../validation/config';

describe('validation configuration', () => {
  it('defaults to all frameworks and the documented thresholds', () => {
    expect(toValidationConfig(validationEnvSchema.parse({}))).toEqual({
      thresholds: { minConfidenceScore: 70, securityThreshold: 70, qualityThreshold: 60, complianceThreshold: 70 },
      frameworks: ['SOC2', 'GDPR', 'HIPAA', 'ISO27001'],
    });
  });

  it('reads thresholds, frameworks and the semgrep path', () => {
    const config = toValidationConfig(
      validationEnvSchema.parse({
        VALIDATION_MIN_CONFIDENCE_SCORE: '80',
        VALIDATION_FRAMEWORKS: 'HIPAA, GDPR',
        SEMGREP_PATH: '/opt/semgrep/bin/semgrep',
      }),
    );
    expect(config).toMatchObject({
      thresholds: { minConfidenceScore: 80 },
      frameworks: ['HIPAA', 'GDPR'],
      semgrepPath: '/opt/semgrep/bin/semgrep',
    });
  });

  it('names the variable at fault', () => {
    const bad = validationEnvSchema.safeParse({
      VALIDATION_SECURITY_THRESHOLD: '120',
      VALIDATION_FRAMEWORKS: 'SOC2,PCI',
    });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((issue) => String(issue.path[0]))).toEqual([
      'VALIDATION_SECURITY_THRESHOLD',
      'VALIDATION_FRAMEWORKS',
    ]);
  });
});
