import ts from 'typescript';
import type { CheckResult, Finding, NotAssessedFile, StaticReport, ToolId } from '../../contracts/validation';
import { artifactCheck } from '../artifacts';
import { sortFindings } from '../findings';
import type { Project } from '../project';
import { finding } from '../findings';
import { analyseDataflow } from './dataflow';
import { checkDependencies, declaredPackages, packageName, type DependencyPolicy } from './dependencies';
import { lintProject } from './eslint';
import { llmReviewCheck, type LlmReviewer } from './llm-review';
import { secretlintVersion } from './secretlint-runner';
import { scanSecrets } from './secrets';
import { contentFindings, unassessedFiles } from './content';
import { suppressionFindings } from './suppressions';
import { runSemgrep, type SemgrepOptions } from './semgrep';
import { DEPENDENCY_TYPES_NOTE, isPackageSpecifier, typeCheck, type TypeCheckResult } from './typescript';

export interface StaticReviewOptions {
  llmReviewer?: LlmReviewer;
  /** `separately`: not run here (a compute thread must not own a child process); see withSemgrep. */
  semgrep?: SemgrepOptions | 'separately';
  dependencyPolicy?: DependencyPolicy;
  /** Called between checks, e.g. to heartbeat an activity. */
  onProgress?: (tool: ToolId) => void;
  /** The project's type-check when it was already run (the same check as `typeCheck(project, { nodeTypes: true })`). */
  typecheck?: TypeCheckResult;
}

type CheckOutcome =
  { findings: Finding[]; version?: string; note?: string } | { status: 'not_assessed' | 'skipped'; reason: string };

/**
 * The review does not install dependencies, so "cannot find module" for a package says nothing about the
 * code: the type check keeps it (and implicit-any parameters typed by such a package) as information, and
 * the dependency check reports packages no package.json declares. Here the note says which case it is.
 */
function withDeclaredModules(findings: Finding[], declared: Set<string>): Finding[] {
  return findings.map((item) => {
    const module = /^TS(2307|7016)$/.test(item.ruleId) ? /'([^']+)'/.exec(item.message)?.[1] : undefined;
    if (!module || !isPackageSpecifier(module)) return item;
    const { fingerprint: _fingerprint, ...rest } = item;
    const base = item.message.replace(` (${DEPENDENCY_TYPES_NOTE})`, '');
    return finding({
      ...rest,
      severity: 'info',
      message: declared.has(packageName(module))
        ? `${base} (declared dependency; not installed for review)`
        : `${base} (not declared in package.json: see the dependency check; not installed for review)`,
    });
  });
}

/** Runs one check and turns its outcome into the report's entry; a check that throws is not assessed. */
async function runCheck(
  tool: ToolId,
  run: () => CheckOutcome | Promise<CheckOutcome>,
): Promise<{ check: CheckResult; findings: Finding[] }> {
  const started = performance.now();
  let outcome: CheckOutcome;
  try {
    outcome = await run();
  } catch (error) {
    // A check that crashes has not looked at the code: not assessed, never passed.
    outcome = {
      status: 'not_assessed',
      reason: `${tool} failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const durationMs = Math.round(performance.now() - started);
  if ('status' in outcome) {
    return {
      check: { tool, status: outcome.status, reason: outcome.reason, findingCount: 0, durationMs },
      findings: [],
    };
  }
  const failing = outcome.findings.some((item) => item.severity !== 'info');
  return {
    check: {
      tool,
      status: failing ? 'failed' : 'passed',
      ...(outcome.note && { reason: outcome.note }),
      findingCount: outcome.findings.length,
      durationMs,
      ...(outcome.version && { version: outcome.version }),
    },
    findings: outcome.findings,
  };
}

async function semgrepOutcome(
  project: Project,
  options: SemgrepOptions | undefined,
  notAssessedFiles: NotAssessedFile[],
): Promise<CheckOutcome> {
  const run = await runSemgrep(project, options);
  if (run.status === 'not_assessed') return run;
  notAssessedFiles.push(...run.unassessed.map((file) => ({ ...file, tool: 'semgrep' as const })));
  const note = run.errors.length ? `semgrep reported ${run.errors.length} error(s): ${run.errors[0]}` : undefined;
  return { findings: run.findings, version: run.version, note };
}

/**
 * Adds semgrep to a report made without it: semgrep is a child process, which must belong to a thread
 * that outlives it (a compute thread torn down mid-run would leave it a zombie nobody collects).
 */
export async function withSemgrep(
  report: StaticReport,
  project: Project,
  options: SemgrepOptions | undefined,
): Promise<StaticReport> {
  const notAssessedFiles = [...(report.notAssessedFiles ?? [])];
  const semgrep = await runCheck('semgrep', () => semgrepOutcome(project, options, notAssessedFiles));
  const at = report.checks.findIndex((check) => check.tool === 'dataflow' || check.tool === 'dependencies');
  const checks = [...report.checks];
  checks.splice(at < 0 ? checks.length : at, 0, semgrep.check); // where the full review puts it
  return {
    ...report,
    checks,
    findings: sortFindings([...report.findings, ...semgrep.findings]),
    ...(notAssessedFiles.length > 0 && { notAssessedFiles }),
  };
}

// `existing`: the static checks' findings, against which the review's duplicates are merged.
const llmOutcome = (project: Project, reviewer: LlmReviewer | undefined, existing: Finding[]): Promise<CheckOutcome> =>
  llmReviewCheck(project, reviewer, existing);

/**
 * Adds the LLM review to a report made without it (the code checks ran in a thread, where the LLM
 * adapter is not available): its check entry replaces the "skipped" one.
 */
export async function withLlmReview(
  report: StaticReport,
  project: Project,
  reviewer: LlmReviewer,
): Promise<StaticReport> {
  const llm = await runCheck('llm', () => llmOutcome(project, reviewer, report.findings));
  return {
    ...report,
    checks: report.checks.map((check) => (check.tool === 'llm' ? llm.check : check)),
    findings: sortFindings([...report.findings, ...llm.findings]),
  };
}

/** Layer 1: compiler, linter, secrets, semgrep, dependency policy and LLM review over one project. */
export async function runStaticReview(
  project: Project,
  meta: { intentId: string; generatedAt?: Date },
  options: StaticReviewOptions = {},
): Promise<StaticReport> {
  const checks: CheckResult[] = [];
  const findings: Finding[] = [];
  // Shipped files no check could judge: the report lists them and they prevent `passed`.
  const notAssessedFiles: NotAssessedFile[] = [];

  async function check(tool: ToolId, run: () => CheckOutcome | Promise<CheckOutcome>): Promise<void> {
    options.onProgress?.(tool);
    const result = await runCheck(tool, run);
    checks.push(result.check);
    findings.push(...result.findings);
  }

  // What ships but is not text (binary types, oversized), and what the content policy forbids.
  notAssessedFiles.push(...unassessedFiles(project));
  await check('content', () => ({ findings: contentFindings(project) }));
  await check('suppressions', () => ({ findings: suppressionFindings(project) }));
  await check('typescript', () => {
    const result = options.typecheck ?? typeCheck(project, { nodeTypes: true });
    if (result.filesChecked === 0) return { status: 'not_assessed', reason: 'no TypeScript files to type-check' };
    notAssessedFiles.push(...(result.unparsed ?? []).map((file) => ({ ...file, tool: 'typescript' as const })));
    return { findings: withDeclaredModules(result.findings, declaredPackages(project)), version: ts.version };
  });
  await check('eslint', () => {
    const result = lintProject(project);
    if (result.filesLinted === 0)
      return { status: 'not_assessed', reason: 'no JavaScript or TypeScript files to lint' };
    notAssessedFiles.push(...result.unparsed.map((file) => ({ ...file, tool: 'eslint' as const })));
    return { findings: result.findings };
  });
  await check('secrets', async () => {
    const scan = await scanSecrets(project);
    notAssessedFiles.push(...scan.unassessed.map((file) => ({ ...file, tool: 'secrets' as const })));
    // Our own detectors ran either way; the report says which part did not.
    const note = scan.secretlint.ran
      ? undefined
      : `secretlint not assessed (${scan.secretlint.reason}); built-in detectors only`;
    return { findings: scan.findings, version: `secretlint ${secretlintVersion()} + qlp detectors`, note };
  });
  const { semgrep } = options;
  if (semgrep !== 'separately') await check('semgrep', () => semgrepOutcome(project, semgrep, notAssessedFiles));
  await check('dataflow', () => {
    const result = analyseDataflow(project);
    if (result.filesAnalysed === 0)
      return { status: 'not_assessed', reason: 'no JavaScript or TypeScript files to analyse' };
    return { findings: result.findings };
  });
  await check('dependencies', () => ({ findings: checkDependencies(project, options.dependencyPolicy) }));
  await check('artifacts', () => artifactCheck(project, notAssessedFiles));
  await check('llm', () => llmOutcome(project, options.llmReviewer, findings));

  return {
    schemaVersion: 1,
    layer: 'static',
    intentId: meta.intentId,
    generatedAt: (meta.generatedAt ?? new Date()).toISOString(),
    filesReviewed: project.files.length,
    checks,
    findings: sortFindings(findings),
    ...(notAssessedFiles.length > 0 && { notAssessedFiles }),
  };
}
