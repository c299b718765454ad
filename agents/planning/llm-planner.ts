import { z } from 'zod';
import type { LlmGateway } from '../../adapters/llm';
import type { Budget } from '../../contracts/budget';
import { taskTypes, type Plan } from '../../contracts/plan';
import { Capability, MAX_REQUIREMENTS, RequirementFramework } from '../../contracts/requirements';
import { intentBlock, loadPromptSet, render, systemMessage } from '../prompts';
import { planProblems } from './plan-validation';
import { defaultCovers, mergeRequirements } from './requirements';

/** The plan as the LLM must write it; the refinement's problems are what the repair round feeds back. */
export function planDraftSchema(maxTasks: number) {
  return z
    .object({
      projectName: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be lowercase words joined by dashes (max 40)'),
      tasks: z.array(
        z.object({
          id: z.string(),
          type: z.enum(taskTypes),
          description: z.string().trim().min(1).max(2000),
          dependencies: z.array(z.string()),
          priority: z.number().int().min(0).max(100),
          outputs: z.array(z.string()).max(20),
          /** Ids of the requirements the task implements; optional (derived when absent). */
          covers: z.array(z.string()).max(MAX_REQUIREMENTS).optional(),
        }),
      ),
      /** Optional: the deterministic extraction stands in when absent, and fills in what it leaves out. */
      requirements: z
        .array(
          z.object({
            id: z.string().max(10),
            text: z.string().trim().min(1).max(500),
            kind: z.enum(['functional', 'control']),
            capability: Capability.optional(),
            framework: RequirementFramework.optional(),
          }),
        )
        .max(MAX_REQUIREMENTS)
        .optional(),
    })
    .superRefine((plan, ctx) => {
      for (const message of planProblems(plan.tasks, maxTasks))
        ctx.addIssue({ code: 'custom', path: ['tasks'], message });
      const ids = new Set((plan.requirements ?? []).map((r) => r.id));
      if (ids.size !== (plan.requirements ?? []).length)
        ctx.addIssue({ code: 'custom', path: ['requirements'], message: 'requirement ids must be unique' });
      for (const task of plan.tasks) {
        for (const id of task.covers ?? []) {
          if (plan.requirements?.length && !ids.has(id))
            ctx.addIssue({
              code: 'custom',
              path: ['tasks'],
              message: `task ${JSON.stringify(task.id)} covers unknown requirement ${JSON.stringify(id)}`,
            });
        }
      }
    });
}

export interface LlmPlanInput {
  intentId: string;
  text: string;
  budget: Budget;
  maxTasks: number;
  signal?: AbortSignal;
}

/** Intent text → validated, normalised plan, through the configured providers (one repair round). */
export async function planWithLlm(gateway: LlmGateway, input: LlmPlanInput): Promise<Plan> {
  const prompts = loadPromptSet('planner');
  const values = { intent: intentBlock(input.text), maxTasks: String(input.maxTasks) };
  const result = await gateway.completeStructured({
    intentId: input.intentId,
    purpose: 'plan',
    schemaName: 'plan',
    schema: planDraftSchema(input.maxTasks),
    messages: [
      { role: 'system', content: systemMessage(prompts, values) },
      { role: 'user', content: render(prompts.task, values) },
    ],
    budget: input.budget,
    signal: input.signal,
  });
  const { requirements, renamed } = mergeRequirements(result.value.requirements, input.text);
  const anyCovers = result.value.tasks.some((task) => task.covers !== undefined);
  // Requirements the merge added (the LLM left them out) are taken on by the code and test tasks.
  const added = requirements.filter((r) => ![...renamed.values()].includes(r.id)).map((r) => r.id);
  return {
    planner: `llm ${result.provider}/${result.model}, prompt planner/${prompts.version}`,
    projectName: result.value.projectName,
    mode: 'llm',
    usage: result.usage,
    requirements,
    tasks: result.value.tasks.map((task) => ({
      id: task.id,
      type: task.type,
      description: task.description,
      dependencies: [...new Set(task.dependencies)],
      priority: task.priority,
      metadata: { outputs: task.outputs },
      covers: anyCovers
        ? [
            ...new Set([
              ...(task.covers ?? []).flatMap((id) => (renamed.has(id) ? [renamed.get(id)!] : [])),
              ...(task.type === 'codegen' || task.type === 'test' ? added : []),
            ]),
          ]
        : defaultCovers(task, requirements),
    })),
  };
}
