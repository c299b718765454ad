import { BubblewrapSandbox, DEFAULT_LIMITS, runInSandbox } from '../../adapters/sandbox';

export interface ProjectResult {
  diagnostics: string[];
  tests: { passed: number; failed: number; output: string };
}

const sandbox = new BubblewrapSandbox();

/**
 * Builds a generated project and runs its tests as the platform's layer 2 does: in the sandbox, with
 * only the curated offline packages, its own strict settings and `node --test` as its `npm test` says.
 * Generated code never runs on the test host.
 */
export async function buildAndTest(files: { path: string; content: string | Buffer }[]): Promise<ProjectResult> {
  const run = await runInSandbox(sandbox, { files, limits: DEFAULT_LIMITS });
  if (run.status === 'error') throw new Error(`sandbox failed: ${run.reason}`);
  const typecheck = run.steps.find((s) => s.step === 'typecheck');
  const test = run.steps.find((s) => s.step === 'test');
  const diagnostics =
    typecheck?.status === 'failed'
      ? typecheck.outputExcerpt.split('\n').filter((line) => /error TS\d+/.test(line))
      : [];
  return {
    diagnostics: [...diagnostics, ...run.limitHits.map((h) => `${h.limit} limit: ${h.detail}`)],
    tests: { passed: run.tests.passed, failed: run.tests.failed, output: test?.outputExcerpt ?? '' },
  };
}
