import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { LlmGateway } from '../../adapters/llm';
import type { ObjectStore } from '../../adapters/storage/s3';
import type { ArtifactRef } from '../../contracts/artifacts';
import type { Budget } from '../../contracts/budget';
import type { Plan, PlannedTask } from '../../contracts/plan';
import { OFFLINE_USAGE, NO_USAGE } from '../../contracts/usage';
import { loadFiles, storeTaskFiles } from '../artifacts';
import { toApplicationFailure, whileHeartbeating } from '../llm-failures';
import { planKey } from '../planning';
import { agentFor } from './agent-factory';
import type { GeneratedFile } from './generated-file';
import { generateOfflineFiles, offlineSpecOf } from './offline/offline-agent';
import { OFFLINE_GENERATOR } from './offline/catalogue';
import { generateSkeletonFiles } from './skeleton';

export interface RunAgentInput {
  intentId: string;
  intentText: string;
  projectName: string;
  task: PlannedTask;
  /** Outputs of the task's dependencies, by reference. */
  dependencies: ArtifactRef[];
  /** The intent's budget (from the workflow's policy); the worker's default when absent. */
  budget?: Budget;
}

export interface AgentDependencies {
  store: ObjectStore;
  gateway: LlmGateway;
  defaultBudget: Budget;
  /** Plans from an injected fixed-shape planner (tests, benchmarks) get the skeleton fixture agents. */
  fixtureAgents: boolean;
}

export function createAgentActivities(deps: AgentDependencies) {
  const { store } = deps;
  return {
    /** Runs the agent for one task and stores what it produced in S3; returns a reference with its usage. */
    async runAgent(input: RunAgentInput): Promise<ArtifactRef> {
      const dependencyFiles = (await loadFiles(store, input.dependencies)).map((file) => ({
        path: file.path,
        content: file.content.toString('utf8'),
      }));
      heartbeat({ phase: 'generating' });
      const offline = offlineSpecOf(input.task);
      if (offline) {
        const files = generateOfflineFiles(offline, input.task, input.intentText);
        const ref = await storeTaskFiles(store, input.intentId, input.task.id, files);
        return { ...ref, generator: `${OFFLINE_GENERATOR} ${offline.kind}`, usage: OFFLINE_USAGE };
      }
      if (deps.gateway.configured) return runLlmAgent(deps, input, dependencyFiles);
      if (deps.fixtureAgents) {
        const files = generateSkeletonFiles({ ...input, dependencyFiles });
        const ref = await storeTaskFiles(store, input.intentId, input.task.id, files);
        return { ...ref, generator: 'skeleton fixture (deterministic, no LLM)', usage: NO_USAGE };
      }
      throw ApplicationFailure.nonRetryable(
        `task ${input.task.id} was planned for an LLM agent, but no LLM provider is configured: set LLM_PROVIDERS (see docs/llm.md)`,
        'LlmNotConfigured',
      );
    },
  };
}

async function runLlmAgent(
  deps: AgentDependencies,
  input: RunAgentInput,
  dependencyFiles: GeneratedFile[],
): Promise<ArtifactRef> {
  const agent = agentFor(input.task.type);
  const plan = await deps.store.getJson<Plan>(planKey(input.intentId)).catch(() => undefined);
  try {
    const result = await whileHeartbeating((signal) =>
      deps.gateway.completeStructured({
        intentId: input.intentId,
        taskId: input.task.id,
        purpose: `agent:${input.task.type}`,
        schemaName: `files_${input.task.type}`,
        schema: agent.outputSchema(new Set(dependencyFiles.map((file) => file.path))),
        messages: agent.messages({ ...input, plan, dependencyFiles }),
        budget: input.budget ?? deps.defaultBudget,
        signal,
      }),
    );
    const ref = await storeTaskFiles(deps.store, input.intentId, input.task.id, result.value.files);
    return { ...ref, generator: `${agent.generator} via ${result.provider}/${result.model}`, usage: result.usage };
  } catch (error) {
    throw toApplicationFailure(error, { type: 'OutputRejected', what: `the ${input.task.type} agent's output was` });
  }
}
