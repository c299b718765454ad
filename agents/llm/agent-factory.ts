import { z } from 'zod';
import type { ChatMessage } from '../../adapters/llm';
import type { Plan, PlannedTask, TaskType } from '../../contracts/plan';
import curated from '../curated-dependencies.json';
import type { GeneratedFile } from '../generated-file';
import { OUTPUT_POLICIES, outputProblems, type OutputPolicy } from './output-policy';
import { intentBlock, loadPromptSet, render, systemMessage, type PromptSet } from '../prompts';

export const LANGUAGES = [
  'typescript',
  'javascript',
  'json',
  'yaml',
  'markdown',
  'dockerfile',
  'shell',
  'text',
] as const;

export interface AgentContext {
  intentText: string;
  projectName: string;
  task: PlannedTask;
  /** The whole plan, when known, so an agent sees what the other tasks write. */
  plan?: Plan;
  /** Files produced by the task's dependencies. */
  dependencyFiles: GeneratedFile[];
}

export interface AgentOutput {
  files: { path: string; content: string; language: (typeof LANGUAGES)[number] }[];
  notes: string;
}

export interface Agent {
  type: TaskType;
  prompts: PromptSet;
  policy: OutputPolicy;
  /** `llm codegen/v1`: recorded with every artifact, so results stay traceable to a prompt version. */
  generator: string;
  messages(context: AgentContext): ChatMessage[];
  /** The output schema; its refinement applies the policy, so violations reach the repair round. */
  outputSchema(takenPaths: ReadonlySet<string>): z.ZodType<AgentOutput>;
}

/** Dependencies' files put into the prompt; beyond this only their paths are listed. */
const CONTEXT_CHARS = 60_000;

/** The specialised agent for a task type: its versioned prompt set and its output policy. */
export function agentFor(type: TaskType): Agent {
  const prompts = loadPromptSet(type);
  const policy = OUTPUT_POLICIES[type];
  return {
    type,
    prompts,
    policy,
    generator: `llm ${type}/${prompts.version}`,
    messages(context) {
      const values = {
        intent: intentBlock(context.intentText),
        projectName: context.projectName,
        plan: describePlan(context.plan),
        taskId: context.task.id,
        taskType: context.task.type,
        taskDescription: context.task.description,
        plannedOutputs: plannedOutputs(context.task),
        dependencyFiles: describeFiles(context.dependencyFiles),
        allowedExtensions: [...policy.extensions, ...policy.names].join(', '),
        maxFiles: String(policy.maxFiles),
        maxFileKb: String(Math.floor(policy.maxFileBytes / 1000)),
        curatedDependencies: Object.entries({ ...curated.dependencies, ...curated.devDependencies })
          .map(([name, version]) => `${name}@${version}`)
          .join(', '),
      };
      return [
        { role: 'system', content: systemMessage(prompts, values) },
        { role: 'user', content: render(prompts.task, values) },
      ];
    },
    outputSchema(takenPaths) {
      return z
        .object({
          files: z.array(z.object({ path: z.string(), content: z.string(), language: z.enum(LANGUAGES) })),
          notes: z.string().max(2000),
        })
        .superRefine((output, ctx) => {
          for (const message of outputProblems(output.files, policy, takenPaths))
            ctx.addIssue({ code: 'custom', path: ['files'], message });
        });
    },
  };
}

function plannedOutputs(task: PlannedTask): string {
  const outputs = task.metadata?.outputs;
  return Array.isArray(outputs) && outputs.length
    ? outputs.map((p) => `\`${String(p)}\``).join(', ')
    : '(not planned: choose sensible paths)';
}

function describePlan(plan: Plan | undefined): string {
  if (!plan) return '(not available)';
  return plan.tasks
    .map((task) => {
      const deps = task.dependencies.length ? ` after ${task.dependencies.join(', ')}` : '';
      return `- ${task.id} (${task.type}${deps}): ${task.description} → ${plannedOutputs(task)}`;
    })
    .join('\n');
}

function describeFiles(files: GeneratedFile[]): string {
  if (!files.length) return '(none)';
  let budget = CONTEXT_CHARS;
  return files
    .map((file) => {
      if (file.content.length > budget) return `--- ${file.path} (omitted: context limit) ---`;
      budget -= file.content.length;
      return `--- ${file.path} ---\n${file.content}`;
    })
    .join('\n\n');
}
