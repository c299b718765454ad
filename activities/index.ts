import type { Database } from '../adapters/db/client';
import { LlmGateway, type LlmConfig } from '../adapters/llm';
import { gatewayReviewers } from '../adapters/llm/reviewer';
import type { SandboxProvider } from '../adapters/sandbox';
import type { ObjectStore } from '../adapters/storage/s3';
import { DEFAULT_WEBHOOK_CONFIG, type WebhookConfig } from '../config/webhooks';
import { localEmbeddingConfig, type EmbeddingConfig } from '../adapters/llm/embedding-config';
import type { Plan } from '../contracts/plan';
import type { CapsuleSigner } from '../contracts/capsule';
import type { ParseIntentInput } from '../contracts/workflow';
import { createDropActivities } from './build-drop';
import { createEmbeddingActivities } from './embeddings';
import { createPackagingActivities } from './package-capsule';
import { createPlanningActivities } from './parse-intent';
import { createReadModelActivities } from './record-projections';
import { createAgentActivities } from './run-agent';
import { withRunInfo } from './run-info';
import { createValidationActivities, type ValidationActivityOptions } from './validate';
import { createWebhookActivities } from './webhooks';

/** Turns intent text into a plan. Benchmarks and tests pass fixed shapes; otherwise the LLM or offline planner. */
export type Planner = (input: ParseIntentInput) => Plan | Promise<Plan>;

export interface ActivityDependencies {
  db: Database;
  store: ObjectStore;
  /** A fixed-shape planner (tests, benchmarks); its tasks get the skeleton fixture agents unless an LLM is configured. */
  planner?: Planner;
  /** LLM providers, limits, cache and default budget (the worker's config). */
  llm: LlmConfig;
  /** Layer 2's sandbox: a SandboxSelector over the worker's sandbox config (adapters/sandbox/selection.ts). */
  sandbox: SandboxProvider;
  /** semgrep location, dependency policy, LLM reviewer and thread pool for the validation layers. */
  validation?: Omit<ValidationActivityOptions, 'sandbox'>;
  /** Signs capsules (orchestration workers, which package): adapters/signing, or a KMS behind the same interface. */
  signer?: CapsuleSigner;
  /** Where webhook deliveries may go and how they retry (the worker's config); default: https to public targets only. */
  webhooks?: WebhookConfig;
  /** Who embeds intent texts and the similar-intent thresholds; default: the local, offline embedding. */
  embeddings?: EmbeddingConfig;
}

/** The activities validation workers serve, on their own task queue (contracts/workflow.ts validationTaskQueue). */
export const VALIDATION_ACTIVITIES = [
  'validateProject',
  'staticReview',
  'complianceReview',
  'dynamicValidation',
  'scoreValidation',
] as const satisfies readonly (keyof Activities)[];

/**
 * Every activity the workers register, built over real adapters (tests pass test settings, not mocks).
 * Reads no environment: the worker passes its config.
 */
export function createActivities({
  db,
  store,
  planner,
  llm,
  sandbox,
  validation,
  signer,
  webhooks = DEFAULT_WEBHOOK_CONFIG,
  embeddings = localEmbeddingConfig(),
}: ActivityDependencies) {
  const gateway = new LlmGateway(db, llm);
  // In LLM mode layer 1's review goes through the same gateway as the agents, charged to the intent.
  const llmReviewers = validation?.llmReviewers ?? gatewayReviewers(gateway, llm.budget);
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
    ...createValidationActivities(store, { ...validation, llmReviewers, sandbox }),
    ...createPackagingActivities(store, signer),
    ...createDropActivities(store, db),
    ...createEmbeddingActivities({ db, store, llm, embeddings }),
    ...createReadModelActivities(db, webhooks),
    ...createWebhookActivities(db, webhooks),
  };
}

export type Activities = ReturnType<typeof createActivities>;
