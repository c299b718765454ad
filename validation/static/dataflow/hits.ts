import type ts from 'typescript';
import type { Severity } from '../../../contracts/validation';
import type { DataflowRuleId } from './rules';

/** A finding of one data-flow rule at a node, with its message (and a severity when it differs from the rule's). */
export interface RuleHit {
  rule: DataflowRuleId;
  node: ts.Node;
  message: string;
  severity?: Severity;
}
