import { createHash } from 'node:crypto';
import { BoundedMemo } from '../../adapters/compute/memo';
import type { ComputePool } from '../../adapters/compute/pool';
import type { RequirementCoverage } from '../../contracts/requirements';
import type { ComplianceReport, StaticReport } from '../../contracts/validation';
import type { CoverageInput } from '../../validation/coverage/analyse';
import type { ComplianceOptions } from '../../validation/compliance/engine';
import type { Project } from '../../validation/project';
import { withSemgrep, type StaticReviewOptions } from '../../validation/static';
import type { SemgrepOptions } from '../../validation/static/semgrep';
import type { TypeCheckResult } from '../../validation/static/typescript';
import * as threaded from '../../validation/threaded';

type Tasks = typeof threaded;

/** Where the CPU-heavy checks run: a thread pool on validation workers, or inline (unit tests). */
export type ValidationPool = Pick<ComputePool<Tasks>, 'run'>;

export const INLINE: ValidationPool = {
  run: async (task, input) => (threaded[task] as (i: typeof input) => never)(input),
};

/** Results kept per worker: a few dozen projects, so a burst of identical intents is validated once. */
const CACHE_ENTRIES = 64;

/** A check result counts as a result only when every check could run; otherwise it is recomputed next time. */
const fullyAssessed = (report: { checks?: { status: string }[] }) =>
  !report.checks?.some((check) => check.status === 'not_assessed');

/**
 * The project's analyses, each computed once per content on this worker (same files and the same
 * rules, which cannot change within a process → the same result): the type-check feeds both the
 * type-check activity and layer 1, and a resubmitted project is not analysed again.
 */
export class ProjectAnalysis {
  private readonly typechecks = new BoundedMemo<TypeCheckResult>(CACHE_ENTRIES);
  private readonly reviews = new BoundedMemo<StaticReport>(CACHE_ENTRIES);
  private readonly compliance = new BoundedMemo<ComplianceReport>(CACHE_ENTRIES);

  constructor(
    private readonly pool: ValidationPool,
    private readonly staticOptions: {
      semgrep?: SemgrepOptions;
      dependencyPolicy?: StaticReviewOptions['dependencyPolicy'];
    },
  ) {}

  typeCheck(project: Project): Promise<TypeCheckResult> {
    return this.typechecks.get(digest(project), () => this.pool.run('typeCheck', { project }));
  }

  /**
   * Layer 1's code checks (everything but the LLM review), stamped for this intent. The thread's part is
   * kept by content; semgrep, a child process, runs on this thread each time (withSemgrep).
   */
  async codeReview(project: Project, intentId: string): Promise<StaticReport> {
    const { dependencyPolicy, semgrep } = this.staticOptions;
    const checked = await this.reviews.get(
      digest(project),
      async () => {
        const typecheck = await this.typeCheck(project);
        return this.pool.run('codeReview', { project, intentId, typecheck, options: { dependencyPolicy } });
      },
      fullyAssessed,
    );
    const report = await withSemgrep(checked, project, semgrep);
    return { ...report, intentId, generatedAt: new Date().toISOString() };
  }

  async complianceReport(
    project: Project,
    intentId: string,
    options: Pick<ComplianceOptions, 'frameworks' | 'claimed' | 'customRules' | 'customRulesErrors'>,
  ): Promise<ComplianceReport> {
    const key = `${digest(project)}:${createHash('sha256').update(JSON.stringify(options)).digest('hex')}`;
    const report = await this.compliance.get(key, () => this.pool.run('compliance', { project, intentId, options }));
    return { ...report, intentId, generatedAt: new Date().toISOString() };
  }
}

/** Requirement coverage (validation/coverage) on the pool: parsing and tracing are CPU work. */
export function requirementCoverage(pool: ValidationPool, input: CoverageInput): Promise<RequirementCoverage[]> {
  return pool.run('coverage', input);
}

/** The project's content digest: paths and contents, in path order. */
function digest(project: Project): string {
  const hash = createHash('sha256');
  for (const file of project.files) hash.update(`${file.path}\0${file.content.length}\0`).update(file.content);
  // What the text does not show (a blanked NUL, unread files, clashes between tasks) changes the review too.
  const { controlCharacters, unassessed, pathConflicts } = project;
  return hash.update(JSON.stringify({ controlCharacters, unassessed, pathConflicts })).digest('hex');
}
