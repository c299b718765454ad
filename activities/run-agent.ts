import { heartbeat } from '@temporalio/activity';
import type { LlmGateway } from '../adapters/llm';
import { loadFiles, planKey, storeTaskFiles } from '../adapters/storage/artifacts';
import type { ObjectStore } from '../adapters/storage/s3';
import type { ArtifactRef } from '../contracts/artifacts';
import type { Budget } from '../contracts/budget';
import type { Plan } from '../contracts/plan';
import type { TaskInput } from '../contracts/workflow';
import { runAgentTask } from '../agents/run';
import { IntentText } from '../contracts/intent';
import { checkedInput, failingArtifacts, refusalFailure } from './failures';
import { toApplicationFailure, whileHeartbeating } from './llm-failures';
import { heartbeating } from './heartbeat';
import { revisionContext } from './revision-context';

export interface AgentActivityDependencies {
  store: ObjectStore;
  gateway: LlmGateway;
  defaultBudget: Budget;
  /** Plans from an injected fixed-shape planner (tests, benchmarks) get the skeleton fixture agents. */
  fixtureAgents: boolean;
}

export function createAgentActivities({ store, ...deps }: AgentActivityDependencies) {
  const agents = { ...deps, plan: (intentId: string) => store.getJson<Plan>(planKey(intentId)).catch(() => undefined) };
  return {
    /** Runs the agent for one task and stores what it produced in S3; returns a reference with its usage. */
    runAgent: failingArtifacts(
      heartbeating(async (input: TaskInput): Promise<ArtifactRef> => {
        checkedInput(IntentText, input.intentText, 'intentText');
        const dependencyFiles = (await loadFiles(store, input.dependencies)).map((file) => ({
          path: file.path,
          content: file.content.toString('utf8'),
        }));
        const revision = input.revision && (await revisionContext(store, input));
        heartbeat({ phase: 'generating' });
        const result = await whileHeartbeating((signal) =>
          runAgentTask(agents, { ...input, dependencyFiles, signal, ...(revision && { revisionContext: revision }) }),
        ).catch((error: unknown) => {
          throw toApplicationFailure(error, {
            type: 'OutputRejected',
            what: `the ${input.task.type} agent's output was`,
          });
        });
        if (!result.ok) throw refusalFailure(result);
        const ref = await storeTaskFiles(store, input.intentId, input.task.id, result.files, input.revision?.label);
        return { ...ref, generator: result.generator, usage: result.usage };
      }),
    ),
  };
}
