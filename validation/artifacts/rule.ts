import type { Finding, NotAssessedFile, Severity } from '../../contracts/validation';
import { finding } from '../findings';

/** One rule of the artefact review: the fixed part of every finding it produces. */
export interface ArtifactRule {
  id: string;
  severity: Severity;
  category: 'security' | 'quality';
  cwe?: string[];
  remediation: string;
}

/** What one file's review produced: findings, or why (part of) it could not be judged. */
export interface FileReview {
  findings: Finding[];
  notAssessed: NotAssessedFile[];
}

export const emptyReview = (): FileReview => ({ findings: [], notAssessed: [] });

/** A finding of an artefact rule at path:line; `severity` overrides the rule's when the context is worse. */
export function artifactFinding(
  rule: ArtifactRule,
  path: string,
  line: number,
  message: string,
  severity: Severity = rule.severity,
): Finding {
  return finding({
    ruleId: `artifacts/${rule.id}`,
    tool: 'artifacts',
    category: rule.category,
    severity,
    message,
    location: { path, line: Math.max(1, line) },
    ...(rule.cwe && { cwe: rule.cwe }),
    remediation: rule.remediation,
  });
}

export const notAssessed = (path: string, reason: string): NotAssessedFile => ({ path, tool: 'artifacts', reason });
