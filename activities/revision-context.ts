import { loadFiles, reportKeys } from '../adapters/storage/artifacts';
import type { ObjectStore } from '../adapters/storage/s3';
import type { RevisionContext } from '../agents/revision';
import type { TaskInput } from '../contracts/workflow';
import { DynamicReport } from '../contracts/validation';

/** Failing tests and steps given to a repair round, each excerpt capped: enough to fix, never the whole log. */
const MAX_FAILURES = 10;
const EXCERPT_CHARS = 1_500;

/**
 * What a re-run agent is given besides its task: its previous files and the feedback. A repair round
 * also gets layer 2's failing tests and steps with their output excerpts, read from the stored report.
 */
export async function revisionContext(store: ObjectStore, input: TaskInput): Promise<RevisionContext | undefined> {
  const { revision } = input;
  if (!revision) return undefined;
  const previousFiles = (await loadFiles(store, [revision.previous])).map((file) => ({
    path: file.path,
    content: file.content.toString('utf8'),
  }));
  const failures = revision.kind === 'repair' ? await sandboxFailures(store, input.intentId) : [];
  return { kind: revision.kind, label: revision.label, feedback: revision.feedback, previousFiles, failures };
}

async function sandboxFailures(store: ObjectStore, intentId: string): Promise<string[]> {
  const stored = await store.getJson<unknown>(reportKeys(intentId).dynamic).catch(() => undefined);
  const report = DynamicReport.safeParse(stored);
  if (!report.success) return [];
  const { run } = report.data;
  const tests = run.tests.failures.map((f) => `test "${f.name}" failed:\n${f.excerpt.slice(0, EXCERPT_CHARS)}`);
  const steps = run.steps
    .filter((step) => step.status === 'failed' || step.status === 'killed')
    .map(
      (step) =>
        `step ${step.step} ${step.status}${step.reason ? ` (${step.reason})` : ''}:\n${step.outputExcerpt.slice(-EXCERPT_CHARS)}`,
    );
  return [...steps, ...tests].slice(0, MAX_FAILURES);
}
