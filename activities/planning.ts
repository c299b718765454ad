import type { Plan } from '../contracts/plan';

export interface ParseIntentInput {
  intentId: string;
  text: string;
}

const STOP_WORDS = new Set(
  'a an and the for to of in on with that this build create make write generate please me my our i we it which'.split(
    ' ',
  ),
);

/** A short, filesystem-safe project name taken from the intent's own words. */
export function projectNameFor(text: string): string {
  const words = text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9\s]/g, ' ')
    .split(/\s+/)
    .filter((word) => word.length > 1 && !STOP_WORDS.has(word));
  return words.slice(0, 4).join('-') || 'project';
}

/**
 * The skeleton planner: deterministic, no LLM. It always yields the same small DAG
 * (module → its check and its documentation) so the whole pipeline runs offline.
 * The LLM planner (issue 3) replaces it behind the same activity.
 */
export function planIntent(input: ParseIntentInput): Plan {
  const projectName = projectNameFor(input.text);
  return {
    planner: 'skeleton-v1 (deterministic, no LLM)',
    projectName,
    tasks: [
      {
        id: 'module',
        type: 'codegen',
        description: `Implement the ${projectName} module`,
        dependencies: [],
        priority: 10,
      },
      {
        id: 'check',
        type: 'test',
        description: `Write a self-check for ${projectName}`,
        dependencies: ['module'],
        priority: 5,
      },
      { id: 'readme', type: 'doc', description: `Document ${projectName}`, dependencies: ['module'], priority: 1 },
    ],
  };
}
