import type { CheckContext, CheckOutcome } from './ast';

/** A code-level check that rule packs refer to by id. It reports where, never which control: packs map that. */
export interface ComplianceCheck {
  id: string;
  title: string;
  cwe: string[];
  remediation: string;
  run(ctx: CheckContext): CheckOutcome | Promise<CheckOutcome>;
}
