import type { LlmGateway } from '../adapters/llm';
import type { Budget } from '../contracts/budget';
import type { Plan } from '../contracts/plan';
import { NO_USAGE, OFFLINE_USAGE, type LlmUsage } from '../contracts/usage';
import type { TaskInput } from '../contracts/workflow';
import type { GeneratedFile } from './generated-file';
import { agentFor } from './llm/agent-factory';
import { OFFLINE_GENERATOR } from './offline/catalogue';
import { generateOfflineFiles, offlineSpecOf } from './offline/offline-agent';
import type { Refusal } from './refusal';
import { revisionMessage, type RevisionContext } from './revision';
import { generateSkeletonFiles } from './skeleton';

export interface AgentDependencies {
  gateway: LlmGateway;
  /** The worker's budget, for intents that carry none. */
  defaultBudget: Budget;
  /** Plans from an injected fixed-shape planner (tests, benchmarks) get the skeleton fixture agents. */
  fixtureAgents: boolean;
  /** The intent's whole plan, read only when an LLM agent needs it (undefined when it cannot be read). */
  plan: (intentId: string) => Promise<Plan | undefined>;
}

export interface AgentTask extends Omit<TaskInput, 'dependencies'> {
  /** Files produced by the task's dependencies. */
  dependencyFiles: GeneratedFile[];
  signal?: AbortSignal;
  /** A re-run: the previous output and what to change or fix. */
  revisionContext?: RevisionContext;
}

/** What one task's agent produced, and by what; the caller stores the files. */
export interface AgentResult {
  ok: true;
  files: GeneratedFile[];
  generator: string;
  usage: LlmUsage;
}

/**
 * Runs the agent for one task: the offline catalogue's generator for tasks it planned, else the LLM
 * agent for the task's type, else (fixed-shape plans without an LLM) the skeleton fixture agents.
 * A task planned for an LLM with none configured is refused; LLM errors are thrown as raised.
 */
export async function runAgentTask(deps: AgentDependencies, input: AgentTask): Promise<AgentResult | Refusal> {
  const offline = offlineSpecOf(input.task);
  if (offline) {
    const files = generateOfflineFiles(offline, input.task, input.intentText);
    return { ok: true, files, generator: `${OFFLINE_GENERATOR} ${offline.kind}`, usage: OFFLINE_USAGE };
  }
  if (deps.gateway.configured) {
    const agent = agentFor(input.task.type);
    const plan = await deps.plan(input.intentId);
    const result = await deps.gateway.completeStructured({
      intentId: input.intentId,
      taskId: input.task.id,
      purpose: `agent:${input.task.type}`,
      schemaName: `files_${input.task.type}`,
      schema: agent.outputSchema(new Set(input.dependencyFiles.map((file) => file.path))),
      messages: [
        ...agent.messages({ ...input, plan }),
        ...(input.revisionContext ? [revisionMessage(input.revisionContext)] : []),
      ],
      budget: input.budget ?? deps.defaultBudget,
      signal: input.signal,
    });
    return {
      ok: true,
      files: result.value.files,
      generator: `${agent.generator}${input.revisionContext ? ` (${input.revisionContext.label})` : ''} via ${result.provider}/${result.model}`,
      usage: result.usage,
    };
  }
  if (deps.fixtureAgents) {
    return {
      ok: true,
      files: generateSkeletonFiles(input),
      generator: 'skeleton fixture (deterministic, no LLM)',
      usage: NO_USAGE,
    };
  }
  return {
    ok: false,
    type: 'LlmNotConfigured',
    reason: `task ${input.task.id} was planned for an LLM agent, but no LLM provider is configured: set LLM_PROVIDERS (see docs/llm.md)`,
  };
}
