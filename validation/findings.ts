import { createHash } from 'node:crypto';
import type { Finding, Severity, SeverityCounts } from '../contracts/validation';

/** Score points each finding costs; docs/validation.md explains the choice. */
export const SEVERITY_WEIGHTS: Record<Severity, number> = { critical: 25, high: 10, medium: 4, low: 1, info: 0 };

export const SEVERITY_ORDER: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

export const moreSevere = (a: Severity, b: Severity): Severity =>
  SEVERITY_ORDER.indexOf(a) <= SEVERITY_ORDER.indexOf(b) ? a : b;

/** A finding with its fingerprint: the same rule, place and message always give the same one. */
export function finding(input: Omit<Finding, 'fingerprint'>): Finding {
  const key = [input.tool, input.ruleId, input.location?.path, input.location?.line, input.message].join('\u0000');
  return { fingerprint: createHash('sha256').update(key).digest('hex').slice(0, 32), ...input };
}

export function countBySeverity(findings: Finding[]): SeverityCounts {
  const counts: SeverityCounts = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  for (const item of findings) counts[item.severity]++;
  return counts;
}

/** Most severe first, then by place: reports read top-down by urgency. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
      (a.location?.path ?? '').localeCompare(b.location?.path ?? '') ||
      (a.location?.line ?? 0) - (b.location?.line ?? 0) ||
      a.ruleId.localeCompare(b.ruleId),
  );
}

export const formatLocation = (item: Finding) =>
  item.location ? `${item.location.path}:${item.location.line}` : '(project)';
