import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TaskType } from '../contracts/plan';

/** Prompt sets live in prompts/<name>/<version>/: system.md, task.md, examples.md, constraints.md. */
export type PromptName = 'planner' | 'review' | TaskType;

/** The version each prompt set uses; a new version is a new folder, so old results stay explainable. */
export const PROMPT_VERSIONS: Record<PromptName, string> = {
  planner: 'v2',
  review: 'v1',
  codegen: 'v1',
  test: 'v1',
  infra: 'v1',
  analyze: 'v1',
  doc: 'v1',
};

export interface PromptSet {
  name: PromptName;
  version: string;
  system: string;
  task: string;
  examples: string;
  constraints: string;
}

// Found by walking up, so it works from sources (tsx, jest) and from the compiled dist/ alike.
function findPromptsDir(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'prompts');
    if (existsSync(join(candidate, 'planner'))) return candidate;
  }
  throw new Error(`prompts/ not found above ${from}`);
}

const cache = new Map<string, PromptSet>();

export function loadPromptSet(name: PromptName, version = PROMPT_VERSIONS[name]): PromptSet {
  const id = `${name}/${version}`;
  let set = cache.get(id);
  if (!set) {
    const dir = join(findPromptsDir(__dirname), name, version);
    const read = (part: string) => readFileSync(join(dir, `${part}.md`), 'utf8').trim();
    set = {
      name,
      version,
      system: read('system'),
      task: read('task'),
      examples: read('examples'),
      constraints: read('constraints'),
    };
    cache.set(id, set);
  }
  return set;
}

/** Fills {{name}} placeholders; a placeholder without a value is a bug in the template, not a blank. */
export function render(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`prompt template placeholder {{${key}}} has no value`);
    return value;
  });
}

/** The system message: role, rules and an example, in that order. */
export function systemMessage(set: PromptSet, values: Record<string, string>): string {
  return render(`${set.system}\n\n# Constraints\n\n${set.constraints}\n\n# Example\n\n${set.examples}`, values);
}

/**
 * The intent as inert data: JSON-quoted with `<` escaped, so no text inside it can close the block
 * or read as an instruction to the platform.
 */
export function intentBlock(text: string): string {
  return `<intent>\n${JSON.stringify(text).replace(/</g, '\\u003c')}\n</intent>`;
}
