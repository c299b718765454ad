import type { LimitKind, SandboxRunResult } from '../contracts/sandbox';
import type { Finding, SandboxBrief, Severity } from '../contracts/validation';
import { finding as withFingerprint } from './findings';

// Layer 2 (dynamic): what a sandbox run of the project means as findings. Pure; the activity runs the sandbox.

const MAX_TEST_FINDINGS = 10;

const LIMIT_REMEDIATION: Record<LimitKind, string> = {
  timeout: 'Make the build and tests finish within the time limit: look for infinite loops, open handles and waits.',
  memory: 'Reduce memory use: stream instead of buffering, bound caches and collections.',
  pids: 'Do not spawn unbounded processes or threads; use a fixed-size pool.',
  output: 'Log less: the tests wrote more output than the limit allows.',
  disk: 'Write less to disk: the work directory is small and temporary.',
  cpu: 'Reduce CPU work: a process used up its CPU-time limit.',
};

const finding = (ruleId: string, severity: Severity, message: string, remediation: string): Finding =>
  withFingerprint({ ruleId, tool: 'sandbox', category: 'quality', severity, message, remediation });

/** First line of the error of a failing test, from Node's TAP YAML block. */
function errorLine(excerpt: string): string {
  const match = /error: (['"|]?)(.*)/.exec(excerpt);
  return (match?.[2] ?? '').replace(/['"]$/, '').slice(0, 200);
}

/** Findings for a run: missing dependencies, a failed build, each failing test, every limit hit. */
export function dynamicFindings(run: SandboxRunResult): Finding[] {
  const findings: Finding[] = [];
  const step = (name: string) => run.steps.find((s) => s.step === name);
  if (run.missingDependencies.length) {
    findings.push(
      finding(
        'sandbox/dependency-unavailable',
        'high',
        `Dependencies outside the curated offline set cannot be installed: ${run.missingDependencies.join(', ')}`,
        'Use only curated packages (docs/sandbox.md), or implement the functionality without them.',
      ),
    );
  }
  if (step('typecheck')?.status === 'failed') {
    findings.push(
      finding(
        'sandbox/typecheck-failed',
        'medium',
        `The project does not compile in the sandbox: ${step('typecheck')!.reason ?? 'compiler errors'}`,
        'Fix the compiler errors listed in the type-check output.',
      ),
    );
  }
  if (step('build')?.status === 'failed') {
    findings.push(
      finding(
        'sandbox/build-failed',
        'high',
        'The build produced no output.',
        'Check tsconfig.json outDir and rootDir.',
      ),
    );
  }
  for (const failure of run.tests.failures.slice(0, MAX_TEST_FINDINGS)) {
    const error = errorLine(failure.excerpt);
    findings.push(
      finding(
        'sandbox/test-failed',
        'high',
        `Test failed: ${failure.name}${error ? ` (${error})` : ''}`,
        'Fix the code or the test so that the project’s own tests pass.',
      ),
    );
  }
  const test = step('test');
  if (test?.status === 'failed' && run.tests.failed === 0) {
    findings.push(
      finding(
        'sandbox/tests-crashed',
        'high',
        `The test run failed without reporting a failing test (exit ${test.exitCode ?? test.signal ?? 'unknown'}).`,
        'Run the tests locally; look for a crash while loading the test files.',
      ),
    );
  }
  if (test?.status === 'passed' && run.tests.passed + run.tests.failed === 0) {
    findings.push(finding('sandbox/no-tests', 'medium', 'The project has no tests.', 'Add tests for the behaviour.'));
  }
  for (const hit of run.limitHits) {
    findings.push(
      finding(
        `sandbox/limit-${hit.limit}`,
        'high',
        `Stopped by the sandbox's ${hit.limit} limit${hit.step ? ` during ${hit.step}` : ''}: ${hit.detail}`,
        LIMIT_REMEDIATION[hit.limit],
      ),
    );
  }
  return findings;
}

/** Passed: every step that ran passed, no test failed and no limit was hit. */
export function dynamicOutcome(run: SandboxRunResult): 'passed' | 'failed' {
  const stepFailed = run.steps.some((s) => s.status === 'failed' || s.status === 'killed');
  return run.status === 'completed' && !stepFailed && run.tests.failed === 0 ? 'passed' : 'failed';
}

/** One line per problem for the gate: failing tests first, then steps and limits. */
export function dynamicProblems(run: SandboxRunResult, max = 5): string[] {
  return [
    ...run.tests.failures.map((f) => `test failed: ${f.name}`),
    ...run.steps
      .filter((s) => s.status === 'failed' || s.status === 'killed')
      .map((s) => `${s.step}: ${s.reason ?? s.status}`),
    ...run.limitHits.map((h) => `${h.limit} limit hit${h.step ? ` during ${h.step}` : ''}`),
    ...(run.reason ? [run.reason] : []),
  ].slice(0, max);
}

/** The run in brief, as the activity's summary and the combined report carry it. */
export function sandboxBrief(run: SandboxRunResult): SandboxBrief {
  const { passed, failed, skipped } = run.tests;
  return {
    driver: run.driver,
    outcome: dynamicOutcome(run),
    tests: { passed, failed, skipped },
    limitHits: run.limitHits.map((h) => h.limit),
    durationMs: run.durationMs,
  };
}
