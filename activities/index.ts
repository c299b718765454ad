import type { Database } from '../adapters/db/client';
import type { ObjectStore } from '../adapters/storage/s3';
import type { Plan } from '../contracts/plan';
import { createAgentActivities } from './agents/run-agent';
import { createPackagingActivities } from './packaging';
import { type ParseIntentInput, planIntent } from './planning';
import { createReadModelActivities } from './read-model';
import { createValidationActivities } from './validation';

export interface ActivityDependencies {
  db: Database;
  store: ObjectStore;
}

/** Every activity the workers register, built over real adapters (tests pass test settings, not mocks). */
export function createActivities({ db, store }: ActivityDependencies) {
  return {
    async parseIntent(input: ParseIntentInput): Promise<Plan> {
      return planIntent(input);
    },
    ...createAgentActivities(store),
    ...createValidationActivities(store),
    ...createPackagingActivities(store),
    ...createReadModelActivities(db),
  };
}

export type Activities = ReturnType<typeof createActivities>;
