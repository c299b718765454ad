import { ActivityFailure, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ArtifactRef } from '../contracts/artifacts';
import type { SimilarIntentsResult } from '../contracts/similar';
import { ioActivity } from './activity-options';
import type { IntentContext } from './intent-context';

// Similar intents at submission, and `reuse: true` (docs/similar-intents.md). intentWorkflow calls these
// behind patched('similar-intents'); both are advisory: a failure here never fails the intent.

const { findSimilarIntents } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

const { reuseArtifacts } = proxyActivities<Activities>(ioActivity);

/**
 * Embeds the intent's text and finds the tenant's earlier intents at or above the similarity threshold: they
 * are kept in the intent's state (status query, Web UI details) and in the read model (GET …/similar, the
 * QuantumDrop). Undefined when the embedding could not be made (provider down, budget): the intent goes on.
 */
export async function attachSimilarIntents(ctx: IntentContext): Promise<SimilarIntentsResult | undefined> {
  const { intentId, text, tenant } = ctx.input;
  try {
    const similar = await findSimilarIntents({ intentId, text, tenant, budget: ctx.input.policy.budget });
    ctx.progress.state.similar = similar;
    return similar;
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('similar intents not found: the intent goes on without them', { error: error.cause?.message });
    return undefined;
  }
}

/**
 * When the submitter asked for `reuse: true` and a completed intent is at or above the reuse threshold: that
 * capsule's approved files, copied into this intent's artifact layout, to validate and gate instead of
 * running the agents. Undefined otherwise (or when copying failed): the intent runs its tasks as usual.
 */
export async function reusedArtifacts(
  ctx: IntentContext,
  similar: SimilarIntentsResult | undefined,
): Promise<ArtifactRef[] | undefined> {
  const source = similar?.reusable;
  if (!ctx.input.reuse || !source) return undefined;
  try {
    const artifacts = await reuseArtifacts({ intentId: ctx.input.intentId, sourceIntentId: source.intentId });
    return artifacts.length ? artifacts : undefined;
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('reuse refused: running the tasks instead', { source: source.intentId, error: error.cause?.message });
    return undefined;
  }
}
