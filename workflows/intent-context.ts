import type { IntentWorkflowInput } from '../contracts/workflow';
import type { IntentProgress } from './progress';
import type { IntentSpend } from './spend';

/** What each step of an intent needs: what was submitted, where progress goes, what has been spent. */
export interface IntentContext {
  input: IntentWorkflowInput;
  progress: IntentProgress;
  spend: IntentSpend;
}
