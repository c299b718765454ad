/** The fixed plan shapes of the bench planner (bench/bench-worker.ts), chosen by the intent text `bench:<shape>`. */
import { recognise } from '../agents/offline/catalogue';
import type { PlannedTask } from '../contracts/plan';

/** The project the bench intents build: a catalogue kind, so layer 2 has a real build and tests to run. */
export const BENCH_PROJECT_TEXT = 'A REST API for books with title and author';

export const BENCH_PROJECT_SPEC = (() => {
  const recognised = recognise(BENCH_PROJECT_TEXT);
  if (!recognised.ok) throw new Error(`bench project outside the catalogue: ${recognised.reason}`);
  return recognised.spec;
})();

const task = (
  id: string,
  type: PlannedTask['type'],
  dependencies: string[] = [],
  options: { sleepMs?: number; catalogue?: boolean } = {},
): PlannedTask => ({
  id,
  type,
  description: options.sleepMs ? `bench task sleep=${options.sleepMs}` : 'bench task',
  dependencies,
  priority: 0,
  // Catalogue tasks get the offline generator (package.json, tsconfig, sources, node:test tests, README);
  // the others the skeleton fixture agents (one note under docs/ each).
  ...(options.catalogue && { metadata: { offline: BENCH_PROJECT_SPEC } }),
});

export const shapes: Record<string, PlannedTask[]> = {
  // Five tasks, instant agents: a → (b, c) → d → e. a, b and c generate the catalogue project (code,
  // its tests, README) so that the type-check, layers 1 and 3 and layer 2 (install, compile, run the
  // tests in the sandbox) all have real work; d and e are skeleton notes.
  five: [
    task('a', 'codegen', [], { catalogue: true }),
    task('b', 'test', ['a'], { catalogue: true }),
    task('c', 'doc', ['a'], { catalogue: true }),
    task('d', 'analyze', ['b', 'c']),
    task('e', 'analyze', ['d']),
  ],
  // The shape before 2026-11-29: skeleton agents only (one TypeScript file, no package.json, tsconfig
  // or tests, so layer 2 starts the sandbox and finds nothing to build or test).
  'five-skeleton': [
    task('a', 'codegen'),
    task('b', 'analyze', ['a']),
    task('c', 'analyze', ['a']),
    task('d', 'analyze', ['b', 'c']),
    task('e', 'analyze', ['d']),
  ],
  // Ten independent tasks of one second each (skeleton agents).
  width10: Array.from({ length: 10 }, (_, i) => task(`w${i}`, i === 0 ? 'codegen' : 'analyze', [], { sleepMs: 1000 })),
};

/** Sequential steps on the longest dependency chain of a shape (parallel branches count once). */
export function criticalPathLength(tasks: PlannedTask[]): number {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const depth = (id: string): number => 1 + Math.max(0, ...byId.get(id)!.dependencies.map(depth));
  return Math.max(...tasks.map((t) => depth(t.id)));
}
