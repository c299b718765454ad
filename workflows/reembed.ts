import { continueAsNew, defineQuery, proxyActivities, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ReembedInput, ReembedProgress } from '../contracts/reembed';

/** Where a re-embed stands: cursor, vectors written, intents left (also in the Web UI's current details). */
export const reembedProgressQuery = defineQuery<ReembedProgress>('reembedProgress');

/** Passes over the intents at most; intents still missing after that are embedded at the next worker start. */
const MAX_PASSES = 3;

const { reembedPage } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

/**
 * Re-embeds every intent that has no vector of `model` (workflow id `reembed-<model>`): a page per activity,
 * in intent id order from a cursor, continuing as new every `pagesPerRun` pages with the cursor and totals,
 * so it resumes where it stood after a worker crash (the activity retries) or across runs.
 */
export async function reembedWorkflow(input: ReembedInput): Promise<ReembedProgress> {
  const progress: ReembedProgress = {
    model: input.model,
    cursor: input.after,
    embedded: input.embedded ?? 0,
    pages: input.pages ?? 0,
    remaining: null,
    done: false,
    runs: (input.runs ?? 0) + 1,
    pass: input.pass ?? 1,
  };
  setHandler(reembedProgressQuery, () => progress);
  const show = () =>
    setCurrentDetails(
      `Re-embedding with **${progress.model}**: ${progress.embedded} vectors written in ${progress.pages} page(s)` +
        (progress.remaining === null ? '' : `, ${progress.remaining} intent(s) left`) +
        (progress.done ? ' — done' : progress.cursor ? `; next after \`${progress.cursor}\`` : ''),
    );
  show();
  for (let page = 0; page < input.pagesPerRun; page++) {
    const result = await reembedPage({ model: input.model, after: progress.cursor, pageSize: input.pageSize });
    progress.embedded += result.embedded;
    progress.pages += 1;
    progress.cursor = result.nextCursor;
    progress.remaining = result.remaining;
    progress.done = result.done;
    show();
    if (result.done && result.remaining > 0 && progress.pass < MAX_PASSES) {
      // Intents submitted behind the cursor during this pass: another pass from the start picks them up.
      return continueAsNew<typeof reembedWorkflow>({ ...next(progress), after: undefined, pass: progress.pass + 1 });
    }
    if (result.done) return progress;
  }
  return continueAsNew<typeof reembedWorkflow>(next(progress));

  function next(state: ReembedProgress): ReembedInput {
    const { cursor, embedded, pages, runs, pass } = state;
    return { ...input, after: cursor, embedded, pages, runs, pass };
  }
}
