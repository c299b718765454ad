import type { Database } from '../adapters/db/client';
import type { ObjectStore } from '../adapters/storage/s3';
import type { Plan } from '../contracts/plan';
import { createAgentActivities } from './agents/run-agent';
import { createPackagingActivities } from './packaging';
import { type ParseIntentInput, planIntent } from './planning';
import { createReadModelActivities } from './read-model';
import { withRunInfo } from './run-info';
import { createValidationActivities } from './validation';

/** Turns intent text into a plan. The skeleton planner by default; benchmarks and tests pass fixed shapes. */
export type Planner = (input: ParseIntentInput) => Plan | Promise<Plan>;

export interface ActivityDependencies {
  db: Database;
  store: ObjectStore;
  planner?: Planner;
}

/** Every activity the workers register, built over real adapters (tests pass test settings, not mocks). */
export function createActivities({ db, store, planner = planIntent }: ActivityDependencies) {
  return {
    async parseIntent(input: ParseIntentInput): Promise<Plan> {
      return planner(input);
    },
    runAgent: withRunInfo(createAgentActivities(store).runAgent),
    ...createValidationActivities(store),
    ...createPackagingActivities(store),
    ...createReadModelActivities(db),
  };
}

export type Activities = ReturnType<typeof createActivities>;
