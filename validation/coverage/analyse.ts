import type { TestResult } from '../../contracts/sandbox';
import {
  CAPABILITY_TITLES,
  type Capability,
  type CoverageEvidence,
  type CoverageSummary,
  type CoverageTest,
  type Requirement,
  type RequirementCoverage,
} from '../../contracts/requirements';
import type { Finding, FrameworkResult } from '../../contracts/validation';
import { buildContext, type CheckContext } from '../compliance/ast';
import { finding } from '../findings';
import type { Project } from '../project';
import { DETECTORS, detectCapability, implementationUnits, isTestPath } from './detectors';
import { declaredTests, importGraph, outcomeOf, reachableFrom, vocabulary, type DeclaredTest } from './tests';

// Requirement coverage, proven by execution: each requirement the plan extracted is traced to the code
// that implements it AND to a test of the project that exercised it and passed in the sandbox (layer 2).
// Frameworks are traced to the compliance layer's controls. Pure: the scoring activity feeds it.

export interface CoverageInput {
  project: Project;
  requirements: Requirement[];
  /** The plan's tasks and what each said it covers. */
  tasks: { id: string; covers?: string[] }[];
  /** Capabilities the planner said it would not implement (the offline catalogue), for the reason. */
  declined?: Capability[];
  /** Layer 2: the tests that ran and how they ended, or why it did not run. */
  tests: { status: 'assessed'; results?: TestResult[] } | { status: 'not_assessed'; reason: string };
  /** Layer 3's frameworks, or why it did not run. */
  compliance: { status: 'assessed'; frameworks: FrameworkResult[] } | { status: 'not_assessed'; reason: string };
}

const MAX_EVIDENCE = 8;
const MAX_SUMMARY_REASON = 300;
const MAX_TESTS = 8;

/** The coverage table: one row per requirement, in plan order. */
export function analyseCoverage(input: CoverageInput): RequirementCoverage[] {
  const ctx = buildContext(input.project);
  const tests = declaredTests(ctx);
  const graph = importGraph(ctx);
  const reach = new Map(tests.map((t) => [t.file, reachableFrom(graph, t.file)]));
  const trace: Trace = { ctx, tests, reach, input };
  return input.requirements.map((requirement) => {
    const coveredBy = input.tasks.filter((t) => t.covers?.includes(requirement.id)).map((t) => t.id);
    const row = requirement.capability
      ? capabilityRow(trace, requirement.capability, coveredBy)
      : requirement.framework
        ? frameworkRow(input, requirement.framework)
        : functionalRow(trace, requirement.text);
    return {
      ...requirement,
      ...row,
      coveredBy,
      evidence: row.evidence.slice(0, MAX_EVIDENCE),
      tests: row.tests.slice(0, MAX_TESTS),
    };
  });
}

interface Trace {
  ctx: CheckContext;
  tests: DeclaredTest[];
  reach: Map<string, Set<string>>;
  input: CoverageInput;
}

type Row = Pick<RequirementCoverage, 'status' | 'reason' | 'evidence' | 'tests'>;

const place = (e: CoverageEvidence) => `${e.path}:${e.line}`;
const testLine = (t: CoverageTest) => `"${t.name}" (${t.status.replace('_', ' ')})`;

/**
 * Tests that import (directly or not) one of `files` and speak of the thing (in their name, their suite's
 * or their body), with what they did in the sandbox. Those whose name says it come first.
 */
function exercising(trace: Trace, files: Set<string>, speaksOf: (text: string) => boolean): CoverageTest[] {
  const results = trace.input.tests.status === 'assessed' ? (trace.input.tests.results ?? []) : [];
  return trace.tests
    .filter((t) => [...(trace.reach.get(t.file) ?? [])].some((file) => files.has(file)))
    .map((t) => ({ test: t, byName: speaksOf([...t.suites, t.name].join('\n')) }))
    .filter(({ test, byName }) => byName || speaksOf(test.text))
    .sort((a, b) => Number(b.byName) - Number(a.byName))
    .map(({ test }) => ({ name: test.name, file: test.file, status: outcomeOf(test, results) }));
}

/**
 * The verdict on implementation evidence and the tests that exercise it: covered only when a test that
 * reaches the implementation passed in the sandbox.
 */
function provenByTests(trace: Trace, what: string, evidence: CoverageEvidence[], tests: CoverageTest[]): Row {
  const where = evidence.slice(0, 3).map(place).join(', ');
  const sandbox = trace.input.tests;
  if (sandbox.status === 'not_assessed')
    return {
      status: 'not_verifiable',
      reason: `${what} at ${where}, but its tests did not run: ${sandbox.reason}`,
      evidence,
      tests,
    };
  if (!sandbox.results)
    return {
      status: 'not_verifiable',
      reason: `${what} at ${where}, but the sandbox did not report which tests ran (its runner predates test names)`,
      evidence,
      tests,
    };
  const passed = tests.filter((t) => t.status === 'passed');
  if (passed.length)
    return {
      status: 'covered',
      reason: `${what} at ${where}; exercised by ${passed.slice(0, 2).map(testLine).join(', ')}`,
      evidence,
      tests: [...passed, ...tests.filter((t) => t.status !== 'passed')],
    };
  if (tests.length)
    return {
      status: 'not_covered',
      reason: `${what} at ${where}, but no test that exercises it passed: ${tests.slice(0, 3).map(testLine).join(', ')}`,
      evidence,
      tests,
    };
  return {
    status: 'not_covered',
    reason: `${what} at ${where}, but no test exercises it (none of the tests that import it speaks of it)`,
    evidence,
    tests,
  };
}

function capabilityRow(trace: Trace, capability: Capability, coveredBy: string[]): Row {
  const detector = DETECTORS[capability];
  const evidence = detectCapability(trace.ctx, capability);
  if (!evidence.length) {
    const declined = trace.input.declined?.includes(capability)
      ? ' The planner said it does not implement it.'
      : !coveredBy.length
        ? ' No task of the plan took it on.'
        : '';
    return {
      status: 'not_covered',
      reason: `no ${CAPABILITY_TITLES[capability]} found in the code: looked for ${detector.looksFor}.${declined}`,
      evidence: [],
      tests: [],
    };
  }
  const files = new Set(evidence.map((e) => e.path));
  const tests = exercising(trace, files, (text) => detector.testPattern.test(text));
  return provenByTests(trace, `${CAPABILITY_TITLES[capability]} implemented`, evidence, tests);
}

function frameworkRow(input: CoverageInput, framework: string): Row {
  if (input.compliance.status === 'not_assessed')
    return {
      status: 'not_verifiable',
      reason: `compliance was not assessed: ${input.compliance.reason}`,
      evidence: [],
      tests: [],
    };
  const result = input.compliance.frameworks.find((f) => f.framework === framework);
  if (!result)
    return {
      status: 'not_verifiable',
      reason: `${framework} was not among the assessed frameworks`,
      evidence: [],
      tests: [],
    };
  const evidenceOf = (status: string) =>
    result.controls
      .filter((c) => c.status === status)
      .flatMap((c) =>
        c.evidence.map((e) => ({ path: e.path, line: e.line, detail: `${framework} ${c.id}: ${e.message}` })),
      );
  if (result.status === 'fail') {
    const failed = result.controls.filter((c) => c.status === 'fail');
    return {
      status: 'not_covered',
      reason: `${framework} controls fail: ${failed
        .slice(0, 6)
        .map((c) => `${c.id} (${c.reason ?? c.title})`)
        .join('; ')}`,
      evidence: evidenceOf('fail'),
      tests: [],
    };
  }
  if (result.status === 'not_assessed')
    return {
      status: 'not_verifiable',
      reason: `${framework} controls could not all be assessed (${result.counts.notAssessed} not assessed)`,
      evidence: [],
      tests: [],
    };
  return {
    status: 'covered',
    reason: `${framework}: ${result.counts.pass} controls pass, ${result.counts.notApplicable} not applicable (each with its reason), none fails`,
    evidence: evidenceOf('pass'),
    tests: [],
  };
}

// Words that say what kind of project it is, not what it does: never evidence of anything.
const GENERIC = new Set(
  (
    'build create make write generate implement develop please need want provide provides providing support supports ' +
    'supporting include includes including also plus with without using use uses that which this these those their ' +
    'there where when what from into onto over under each every all some any other more most must should could would ' +
    'will shall can able simple small basic tiny new typescript javascript node nodejs api apis rest restful http https ' +
    'json service services server microservice cli command line tool tools module modules library package sdk app ' +
    'application project system endpoint endpoints crud file files code tests test testing readme docs documentation ' +
    'compliant compliance secure securely fields field data based typed strict proper properly fully'
  ).split(' '),
);

/** The words of a sentence that name things the code should show (at most 8). */
export function keyTerms(text: string): string[] {
  const words = text
    .toLowerCase()
    .replace(/[^a-z0-9\s-]/g, ' ')
    .split(/[\s-]+/)
    .filter((w) => w.length >= 4 && !/^\d/.test(w) && !GENERIC.has(w));
  return [...new Set(words)].slice(0, 8);
}

/** The word as the code would spell its stem: `records` → `record`, `verifies` → `verify`, `receiver` → `receiv`. */
export function stem(word: string): string {
  const stemmed = word
    .replace(/ies$/, 'y')
    .replace(/(?<=[^aeiou])es$/, '')
    .replace(/(ers|er|ing|ed|s)$/, '');
  return stemmed.length >= 4 ? stemmed : word;
}

function functionalRow(trace: Trace, text: string): Row {
  const terms = keyTerms(text);
  if (!terms.length)
    return {
      status: 'not_verifiable',
      reason: 'it names nothing specific enough to trace in the code; review it',
      evidence: [],
      tests: [],
    };
  const found = new Map<string, CoverageEvidence>();
  for (const unit of implementationUnits(trace.ctx)) {
    for (const { word, line } of vocabulary(unit)) {
      for (const term of terms) {
        if (!found.has(term) && word.includes(stem(term)))
          found.set(term, { path: unit.file.path, line, detail: `"${term}" in the code` });
      }
    }
  }
  const missing = terms.filter((t) => !found.has(t));
  if (!found.size)
    return {
      status: 'not_covered',
      reason: `none of what it names appears in the code (${terms.join(', ')})`,
      evidence: [],
      tests: [],
    };
  const evidence = [...found.values()];
  const files = new Set(evidence.map((e) => e.path));
  const mentions = (text: string) => {
    const words = text.toLowerCase();
    return [...found.keys()].some((term) => words.includes(stem(term)));
  };
  const tests = exercising(trace, files, mentions);
  const row = provenByTests(trace, `found ${[...found.keys()].join(', ')}`, evidence, tests);
  const note = missing.length ? ` (not found: ${missing.join(', ')})` : '';
  // Words are weak evidence: a functional requirement without a passing test is for the reviewer to judge.
  return row.status === 'not_covered'
    ? { ...row, status: 'not_verifiable', reason: `${row.reason}${note}; review it` }
    : { ...row, reason: `${row.reason}${note}` };
}

/** Counts, every status, and the uncovered rows with why: what the gate shows. */
export function coverageSummary(rows: RequirementCoverage[], maxUncovered = 10): CoverageSummary {
  const count = (status: RequirementCoverage['status']) => rows.filter((r) => r.status === status).length;
  return {
    counts: { covered: count('covered'), notCovered: count('not_covered'), notVerifiable: count('not_verifiable') },
    items: rows.map((r) => ({ id: r.id, status: r.status })),
    uncovered: rows
      .filter((r) => r.status === 'not_covered')
      .slice(0, maxUncovered)
      .map(({ id, text, kind, capability, framework, reason }) => ({
        id,
        text,
        kind,
        ...(capability && { capability }),
        ...(framework && { framework }),
        // Workflow histories carry this summary: the full reason is in the report.
        reason: reason.length > MAX_SUMMARY_REASON ? `${reason.slice(0, MAX_SUMMARY_REASON - 1)}…` : reason,
      })),
  };
}

const label = (r: RequirementCoverage) =>
  r.capability ? CAPABILITY_TITLES[r.capability] : r.framework ? r.framework : `"${r.text.slice(0, 80)}"`;

/** An uncovered requirement is a high finding (it lowers quality and blocks the verdict `passed`). */
export function coverageFindings(rows: RequirementCoverage[]): Finding[] {
  return rows
    .filter((r) => r.status === 'not_covered')
    .map((r) =>
      finding({
        ruleId:
          r.evidence.length && !r.framework ? 'coverage/requirement-untested' : 'coverage/requirement-not-covered',
        tool: 'coverage',
        category: 'quality',
        severity: 'high',
        message: `Requirement ${r.id} (${label(r)}) is not covered: ${r.reason}`,
        ...(r.evidence[0] && { location: { path: r.evidence[0].path, line: r.evidence[0].line } }),
        remediation: r.capability
          ? `Implement ${CAPABILITY_TITLES[r.capability]} (${DETECTORS[r.capability].looksFor}) and a test that exercises it, or take the requirement out of the intent.`
          : r.framework
            ? `Implement the controls ${r.framework} requires (see the failing controls), or drop the claim.`
            : 'Build what the requirement asks for, with a test that exercises it.',
      }),
    );
}

/** Verdict gaps: control requirements that could not be verified (never read as covered). */
export function coverageGaps(rows: RequirementCoverage[]): string[] {
  return rows
    .filter((r) => r.status === 'not_verifiable' && r.kind === 'control')
    .map((r) => `requirement ${r.id} (${label(r)}) not verifiable: ${r.reason}`);
}

/** Verdict failures: every uncovered requirement, by id. */
export function coverageFailures(rows: RequirementCoverage[]): string[] {
  return rows.filter((r) => r.status === 'not_covered').map((r) => `requirement ${r.id} (${label(r)}) not covered`);
}

export { isTestPath };
