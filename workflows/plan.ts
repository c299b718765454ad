import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Plan } from '../contracts/plan';
import { agentActivity } from './activity-options';
import type { IntentContext } from './intent-context';

const { parseIntent } = proxyActivities<Activities>(agentActivity);

/** Plans the intent into tasks (LLM or offline catalogue) and refuses a plan larger than the policy allows. */
export async function planIntent({ input, progress, spend }: IntentContext): Promise<Plan> {
  const { intentId, text, policy } = input;
  spend.assertWithinBudget();
  const plan = await parseIntent.executeWithOptions({ ...agentActivity, summary: 'Plan the intent into tasks' }, [
    { intentId, text, budget: policy.budget, maxTasks: policy.maxPlanTasks },
  ]);
  spend.record(plan.usage);
  if (plan.tasks.length > policy.maxPlanTasks) {
    throw ApplicationFailure.nonRetryable(
      `the plan has ${plan.tasks.length} tasks; the limit is ${policy.maxPlanTasks} (MAX_PLAN_TASKS)`,
      'PlanTooLarge',
    );
  }
  progress.planned(plan);
  return plan;
}
