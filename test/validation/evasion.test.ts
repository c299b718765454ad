import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findPathConflicts, unsafePathReason } from '../../adapters/storage/artifacts';
import type { Finding, ValidationReport } from '../../contracts/validation';
import { runCompliance } from '../../validation/compliance/engine';
import { projectFromFiles } from '../../validation/project';
import { buildValidationReport, REPORT_LIMITS } from '../../validation/report';
import { DEFAULT_THRESHOLDS, mergeSecurityFindings } from '../../validation/scoring';
import { runStaticReview } from '../../validation/static';
import { contentFindings } from '../../validation/static/content';
import { checkDependencies } from '../../validation/static/dependencies';
import { detectSecrets } from '../../validation/static/secrets';
import { findExecutable } from '../../validation/static/semgrep';
import { suppressionFindings } from '../../validation/static/suppressions';
import { cpuMsSince } from '../support/cpu-time';

// The evasion suite of issue 14 (test/fixtures/evasion, written by someone who did not read the validator):
// every case goes through the validation the gate runs in-process — static review (semgrep included when
// installed), compliance, scoring and the stored report — or, for `stage: "merge"`, through the merge of
// task outputs. A case this runner cannot run fails the suite by name; only the CLI's cases belong elsewhere.

const ROOT = resolve(__dirname, '../fixtures/evasion');

interface Expectation {
  description: string;
  mustNotPass: boolean;
  mustName: string[];
  stage?: 'validation' | 'merge' | 'cli';
  paths?: { task: string; path: string; content: string }[];
  generate?: string;
  scanUnderMs?: number;
  notAssessed?: string[];
  distinctFindings?: { path: string; line: number; classes: string[] };
  notBetterThan?: string;
  reportBounded?: boolean;
}

const KNOWN_FIELDS = new Set([
  'description',
  'finding',
  'mustNotPass',
  'mustName',
  'stage',
  'paths',
  'generate',
  'scanUnderMs',
  'notAssessed',
  'distinctFindings',
  'notBetterThan',
  'reportBounded',
  'cliCommands',
  'cliOutputMustNotMatch',
]);

const cases = existsSync(ROOT)
  ? readdirSync(ROOT)
      .filter((name) => statSync(join(ROOT, name)).isDirectory())
      .sort()
  : [];
const expectationOf = (name: string) =>
  JSON.parse(readFileSync(join(ROOT, name, 'expect.json'), 'utf8')) as Expectation & Record<string, unknown>;

/** The case's files byte for byte, plus what its generator writes (run in a child: it is an ES module). */
function filesOf(name: string): { path: string; content: Buffer }[] {
  const dir = join(ROOT, name, 'files');
  const files = new Map<string, Buffer>();
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files.set(relative(dir, full).split('\\').join('/'), readFileSync(full));
    }
  };
  if (existsSync(dir)) walk(dir);
  const generator = expectationOf(name).generate;
  if (generator) {
    const url = pathToFileURL(join(ROOT, name, generator)).href;
    const script = `import(${JSON.stringify(url)}).then((m) => process.stdout.write(JSON.stringify(m.generate())))`;
    const run = spawnSync(process.execPath, ['-e', script], { maxBuffer: 64 * 1024 * 1024 });
    if (run.status !== 0) throw new Error(`${name}: ${generator} failed: ${run.stderr.toString()}`);
    for (const [path, content] of Object.entries(JSON.parse(run.stdout.toString()) as Record<string, string>))
      files.set(path, Buffer.from(content, 'utf8'));
  }
  return [...files].map(([path, content]) => ({ path, content }));
}

let semgrep: string | null = null;
beforeAll(async () => {
  const installed = resolve(__dirname, '../../.tools/semgrep/bin/semgrep');
  semgrep = existsSync(installed) ? installed : ((await findExecutable('semgrep')) ?? null);
});

/** The gate's view of a project: layer 1 and layer 3 in-process, scored and bounded as the stored report. */
async function validate(
  name: string,
  files: { path: string; content: Buffer }[],
  extra: Parameters<typeof projectFromFiles>[1] = {},
) {
  const project = projectFromFiles(files, extra);
  const staticReport = await runStaticReview(project, { intentId: name }, { semgrep: { executable: semgrep } });
  const compliance = await runCompliance(project, { intentId: name });
  const report = buildValidationReport({
    intentId: name,
    static: staticReport,
    compliance,
    thresholds: DEFAULT_THRESHOLDS,
    reportKeys: { sarif: `${name}.sarif` },
  });
  return { project, staticReport, compliance, report };
}

/** Every path the report names: finding locations, not-assessed entries, and paths quoted in messages. */
function namedPaths(report: ValidationReport, staticFindings: Finding[]): (path: string) => boolean {
  const findings = [...report.findings, ...staticFindings];
  const located = new Set(findings.flatMap((f) => (f.location ? [f.location.path] : [])));
  const unread = new Set((report.notAssessedFiles ?? []).map((f) => f.path));
  const messages = findings.map((f) => f.message).join('\n');
  return (path) =>
    located.has(path) || unread.has(path) || messages.includes(JSON.stringify(path)) || messages.includes(path);
}

const runnable = cases.filter((name) => !['cli'].includes(expectationOf(name).stage ?? 'validation'));

describe('the evasion suite', () => {
  it('has cases, and every case is one this runner or the CLI suite runs', () => {
    expect(cases.length).toBeGreaterThan(0);
    const problems = cases.flatMap((name) => {
      if (!existsSync(join(ROOT, name, 'expect.json'))) return [`${name}: no expect.json`];
      const expectation = expectationOf(name);
      const unknown = Object.keys(expectation).filter((key) => !KNOWN_FIELDS.has(key));
      const stage = expectation.stage ?? 'validation';
      return [
        ...(unknown.length ? [`${name}: fields this runner does not check: ${unknown.join(', ')}`] : []),
        ...(['validation', 'merge', 'cli'].includes(stage) ? [] : [`${name}: unknown stage ${stage}`]),
        ...(expectation.mustNotPass === true ? [] : [`${name}: mustNotPass is not true`]),
        ...(stage !== 'cli' && expectation.mustName.length === 0 ? [`${name}: names no file`] : []),
      ];
    });
    expect(problems).toEqual([]);
  });

  describe.each(runnable.filter((name) => expectationOf(name).stage !== 'merge'))('%s', (name) => {
    const expectation = expectationOf(name);

    it('does not pass, and every offending file is named', async () => {
      const { staticReport, compliance, report } = await validate(name, filesOf(name));
      expect({ case: name, verdict: report.verdict.status }).not.toEqual({ case: name, verdict: 'passed' });
      const named = namedPaths(report, staticReport.findings);
      expect(expectation.mustName.filter((path) => !named(path))).toEqual([]);
      const unread = new Set((report.notAssessedFiles ?? []).map((f) => f.path));
      expect((expectation.notAssessed ?? []).filter((path) => !unread.has(path))).toEqual([]);
      if (expectation.reportBounded) {
        expect(Buffer.byteLength(JSON.stringify(report, null, 2))).toBeLessThanOrEqual(REPORT_LIMITS.maxBytes);
        const perRule = new Map<string, number>();
        for (const item of report.findings) perRule.set(item.ruleId, (perRule.get(item.ruleId) ?? 0) + 1);
        expect(Math.max(...perRule.values())).toBeLessThanOrEqual(REPORT_LIMITS.perRule);
        expect(report.truncated?.findingsCut).toBeGreaterThan(0);
      }
      if (expectation.distinctFindings) {
        const { path, line } = expectation.distinctFindings;
        const here = (f: Finding) => f.category === 'security' && f.location?.path === path && f.location.line === line;
        // Each weakness on the line is its own finding: different classes are never merged into one.
        const raw = [...staticReport.findings, ...compliance.findings].filter(here);
        const counted = mergeSecurityFindings(raw);
        const classes = new Set(raw.flatMap((f) => f.cwe ?? [`rule:${f.ruleId}`]));
        expect(counted.length).toBeGreaterThanOrEqual(Math.min(2, classes.size));
        expect(report.findings.filter(here).length).toBe(counted.length);
      }
      if (expectation.notBetterThan) {
        const twin = await validate(expectation.notBetterThan, filesOf(expectation.notBetterThan));
        expect(report.scores.security!).toBeLessThanOrEqual(twin.report.scores.security!);
        expect(report.scores.overall ?? 0).toBeLessThanOrEqual(twin.report.scores.overall ?? 0);
      }
    }, 240_000);

    if (expectation.scanUnderMs) {
      it(`is scanned by the raw-text scanners in under ${expectation.scanUnderMs} ms`, () => {
        const generated = filesOf(name);
        const started = process.cpuUsage();
        const project = projectFromFiles(generated);
        detectSecrets(project);
        checkDependencies(project);
        suppressionFindings(project);
        contentFindings(project);
        expect(cpuMsSince(started)).toBeLessThan(expectation.scanUnderMs!);
      });
    }
  });

  describe.each(runnable.filter((name) => expectationOf(name).stage === 'merge'))('%s (merge)', (name) => {
    const expectation = expectationOf(name);

    it('is refused at the merge, naming both tasks, or reaches the gate as a failing finding', async () => {
      const core = filesOf(name).map((file) => ({ ...file, taskId: 'core' }));
      const extra = (expectation.paths ?? []).map((p) => ({
        path: p.path,
        content: Buffer.from(p.content, 'utf8'),
        taskId: p.task,
      }));
      // An agent's own output path is refused where it is written (the agent is told why and retries).
      const refused = extra.filter((file) => unsafePathReason(file.path) !== undefined);
      const stored = [...core, ...extra.filter((file) => unsafePathReason(file.path) === undefined)];
      // Across tasks, the merge reports each clash with both tasks and both paths (a refused path's twin too).
      const { kept, conflicts } = findPathConflicts(stored);
      const twins = findPathConflicts([...core, ...extra]).conflicts;
      const named = (path: string) =>
        refused.some((file) => file.path === path) || [...conflicts, ...twins].some((c) => c.paths.includes(path));
      expect(expectation.mustName.filter((path) => !named(path))).toEqual([]);
      for (const clash of conflicts) expect(clash.tasks.every((task) => task.length > 0)).toBe(true);
      expect(refused.length + conflicts.length).toBeGreaterThan(0);
      if (conflicts.length) {
        const { report } = await validate(name, kept, { pathConflicts: conflicts });
        expect(report.verdict.status).toBe('failed');
        const messages = report.findings.filter((f) => f.ruleId === 'content/path-conflict').map((f) => f.message);
        for (const clash of conflicts)
          expect(
            messages.some((m) => clash.tasks.every((task) => m.toLowerCase().includes(`task ${task.toLowerCase()}'s`))),
          ).toBe(true);
      }
    }, 240_000);
  });

  it('leaves only the CLI cases to the CLI suite', () => {
    const elsewhere = cases.filter((name) => !runnable.includes(name));
    expect(elsewhere.every((name) => expectationOf(name).stage === 'cli')).toBe(true);
  });
});
