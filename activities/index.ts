import type { Database } from '../adapters/db/client';
import { LlmGateway, type LlmConfig } from '../adapters/llm';
import { prepareSandbox } from '../adapters/sandbox';
import type { ObjectStore } from '../adapters/storage/s3';
import { loadConfig } from '../config';
import type { Plan } from '../contracts/plan';
import { createAgentActivities } from './agents/run-agent';
import { createPackagingActivities } from './packaging';
import { createPlanningActivities, type ParseIntentInput } from './planning';
import { createReadModelActivities } from './read-model';
import { withRunInfo } from './run-info';
import { createValidationActivities, type ValidationActivityOptions } from './validation';

/** Turns intent text into a plan. Benchmarks and tests pass fixed shapes; otherwise the LLM or offline planner. */
export type Planner = (input: ParseIntentInput) => Plan | Promise<Plan>;

export interface ActivityDependencies {
  db: Database;
  store: ObjectStore;
  /** A fixed-shape planner (tests, benchmarks); its tasks get the skeleton fixture agents unless an LLM is configured. */
  planner?: Planner;
  /** LLM providers, limits, cache and default budget; the worker's environment when absent. */
  llm?: LlmConfig;
  /** semgrep location, dependency policy and LLM reviewer for the validation layers. */
  validation?: ValidationActivityOptions;
}

/** Every activity the workers register, built over real adapters (tests pass test settings, not mocks). */
export function createActivities({ db, store, planner, llm = loadConfig().llm, validation }: ActivityDependencies) {
  // Layer 2's sandbox: the one the caller prepared, else the configured one (chosen on first use).
  const sandboxConfig = validation?.sandbox ? undefined : loadConfig().sandbox;
  const validationOptions: ValidationActivityOptions = {
    ...validation,
    sandbox: validation?.sandbox ?? (sandboxConfig && (() => prepareSandbox(sandboxConfig))),
    sandboxLimits: validation?.sandboxLimits ?? sandboxConfig?.limits,
  };
  const gateway = new LlmGateway(db, llm);
  const planning = createPlanningActivities({ gateway, store, defaultBudget: llm.budget });
  const agents = createAgentActivities({
    store,
    gateway,
    defaultBudget: llm.budget,
    fixtureAgents: planner !== undefined,
  });
  return {
    async parseIntent(input: ParseIntentInput): Promise<Plan> {
      return planner ? planner(input) : planning.parseIntent(input);
    },
    runAgent: withRunInfo(agents.runAgent),
    ...createValidationActivities(store, validationOptions),
    ...createPackagingActivities(store),
    ...createReadModelActivities(db),
  };
}

export type Activities = ReturnType<typeof createActivities>;
