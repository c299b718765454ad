// The re-embed workflow (workflows/reembed.ts): its input, one page's result, and the progress it reports.

export interface ReembedInput {
  /** The model every intent should have a vector of (the worker's configured one). */
  model: string;
  /** Intents per activity call. */
  pageSize: number;
  /** Pages per workflow run before it continues as new (keeps the history short). */
  pagesPerRun: number;
  /** Resume after this intent id (set by continue-as-new, or to restart from a known point). */
  after?: string;
  /** Totals carried across runs. */
  embedded?: number;
  pages?: number;
  /** Runs so far (continue-as-new starts the next). */
  runs?: number;
  /** Passes over the intents so far: intents submitted behind the cursor get a second (and third) pass. */
  pass?: number;
}

export interface ReembedPageInput {
  model: string;
  after?: string;
  pageSize: number;
}

export interface ReembedPage {
  embedded: number;
  /** The last intent id of the page: where the next page starts. */
  nextCursor?: string;
  /** The page was not full: nothing is left after the cursor. */
  done: boolean;
  /** Intents still without a vector of the model (all of them, not only after the cursor). */
  remaining: number;
}

export interface ReembedProgress {
  model: string;
  cursor?: string;
  embedded: number;
  pages: number;
  remaining: number | null;
  done: boolean;
  runs: number;
  pass: number;
}

/** The re-embed workflow's id for a model: one re-embed per model at a time. */
export const reembedWorkflowId = (model: string) => `reembed-${model}`;
