import type { Plan } from '../../contracts/plan';
import { projectNameFor } from './project-name';
import { defaultCovers, extractRequirements } from './requirements';

/**
 * The skeleton fixture planner: deterministic, no LLM, always the same small DAG (module → its check
 * and its documentation). Tests and benchmarks of the orchestration inject it as `planner`; a user's
 * intent never reaches it (that goes to the LLM planner or the offline catalogue).
 */
export function planIntent(input: { intentId: string; text: string }): Plan {
  const projectName = projectNameFor(input.text);
  const requirements = extractRequirements(input.text);
  const tasks: Plan['tasks'] = [
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
  ];
  return {
    planner: 'skeleton-v1 (deterministic, no LLM)',
    projectName,
    tasks: tasks.map((task) => ({ ...task, covers: defaultCovers(task, requirements) })),
    requirements,
  };
}
