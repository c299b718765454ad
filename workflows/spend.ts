import { ApplicationFailure } from '@temporalio/workflow';
import { addUsage, budgetAllows, NOTHING_SPENT, UNLIMITED, type Budget, type Spend } from '../contracts/budget';
import { NO_USAGE, type LlmUsage } from '../contracts/usage';
import type { IntentProgress } from './progress';

/** What the intent's LLM calls have cost so far: workflow state, so crashes and replays keep it. */
export class IntentSpend {
  private spent: Spend = NOTHING_SPENT;

  /** `budget` is absent in intents started before budgets existed: those run unlimited, as submitted. */
  constructor(
    private readonly budget: Budget | undefined,
    private readonly progress: IntentProgress,
  ) {}

  /** Refuses to start another LLM activity once the intent's budget is spent. */
  assertWithinBudget(): void {
    const verdict = budgetAllows(this.budget ?? UNLIMITED, this.spent, { tokens: 1, costUsd: 0 });
    if (!verdict.allowed) throw ApplicationFailure.nonRetryable(`budget exceeded: ${verdict.reason}`, 'BudgetExceeded');
  }

  /** Whether another LLM activity may start (request_changes is refused once it may not). */
  withinBudget(): boolean {
    return budgetAllows(this.budget ?? UNLIMITED, this.spent, { tokens: 1, costUsd: 0 }).allowed;
  }

  record(usage: LlmUsage | undefined): void {
    this.spent = addUsage(this.spent, usage ?? NO_USAGE);
    this.progress.addUsage(usage);
  }
}
