import type { Finding } from '../../../contracts/validation';
import { checkDependencies } from '../../static/dependencies';
import { scanSecrets } from '../../static/secrets';
import type { CheckContext, CheckOutcome } from '../ast';
import type { ComplianceCheck } from '../check';

const toHits = (findings: Finding[]) =>
  findings.map((item) => ({
    path: item.location!.path,
    line: item.location!.line,
    column: item.location!.column,
    message: item.message,
  }));

export const hardcodedSecret: ComplianceCheck = {
  id: 'hardcoded-secret',
  title: 'Credential or key in the code',
  cwe: ['CWE-798'],
  remediation: 'Remove the secret, rotate it, and load it at run time from the environment or a secret manager.',
  async run(ctx) {
    const scan = await scanSecrets(ctx.project);
    // Without secretlint only our detectors looked: a clean result would overstate coverage.
    if (!scan.secretlint.ran && scan.findings.length === 0) throw new Error(scan.secretlint.reason);
    return { applicable: ctx.files.length > 0, hits: toHits(scan.findings) };
  },
};

const hasDependencies = (ctx: CheckContext) =>
  ctx.files.some((file) => /(^|\/)package\.json$/.test(file.path)) ||
  ctx.sources.some((unit) => /\bfrom\s+["'][^./]|require\(\s*["'][^./]/.test(unit.file.content));

function dependencyOutcome(ctx: CheckContext, rules: RegExp): CheckOutcome {
  const findings = checkDependencies(ctx.project).filter((item) => rules.test(item.ruleId));
  return { applicable: hasDependencies(ctx), hits: toHits(findings) };
}

export const untrustedDependency: ComplianceCheck = {
  id: 'untrusted-dependency',
  title: 'Malicious, compromised, unknown or unverifiable dependency',
  cwe: ['CWE-1357', 'CWE-506', 'CWE-494'],
  remediation:
    'Depend only on known, maintained registry packages at versions free of known compromises; verify any new package before use.',
  run: (ctx) =>
    dependencyOutcome(
      ctx,
      /^dependencies\/(malicious-package|compromised-version|unknown-package|non-registry-source)$/,
    ),
};

export const licenceViolation: ComplianceCheck = {
  id: 'licence-violation',
  title: 'Dependency licence outside the allow-list',
  cwe: ['CWE-1357'],
  remediation:
    'Replace the dependency with a permissively licensed one, or record legal approval and add its licence to the allow-list.',
  run: (ctx) => dependencyOutcome(ctx, /^dependencies\/licence-not-allowed$/),
};
