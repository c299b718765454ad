import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { findExecutable } from '../validation/static/semgrep';
import { analysePackage } from './real-packages/analyse';
import { installPackage, readSource, type PackageSource } from './real-packages/install';
import { POPULAR, VULNERABLE } from './real-packages/packages';
import { byRule, bySeverity, byTool, locateWeakness, onManifest, reviewedSample } from './real-packages/report';
import { linesOfCode } from './real-packages/source';

// The validator on code nobody here wrote: the published source of popular npm packages (findings per
// 1,000 lines, a reviewed sample) and of versions with a known weakness (found where the advisory puts
// it?). Packages are installed at bench time into a scratch folder, each in its own prefix, never into the
// project. Run: npx tsx bench/real-packages.ts (BENCH_PACKAGES=express,ms runs a subset).

const only = process.env.BENCH_PACKAGES?.split(',').filter(Boolean);
const wanted = (name: string) => !only || only.includes(name);
const perKloc = (count: number, loc: number) => (loc === 0 ? null : Math.round((count * 100_000) / loc) / 100);

interface Measured {
  version: string;
  /** The install prefix: the package's own dependencies are in its node_modules. */
  prefix: string;
  source: PackageSource;
  loc: number;
  analysis: Awaited<ReturnType<typeof analysePackage>>;
}

async function measure(scratch: string, name: string, version: string, semgrep: string | null): Promise<Measured> {
  const root = await installPackage(scratch, name, version);
  const source = await readSource(name, root);
  const loc = source.files
    .filter((f) => f.path !== 'package.json')
    .reduce((sum, f) => sum + linesOfCode(f.path, f.content), 0);
  const analysis = await analysePackage(name, source, semgrep);
  console.log(
    `${name}@${version}: ${source.files.length} files, ${loc} LOC, ${analysis.findings.length} findings, ${analysis.durationMs} ms`,
  );
  return { version, prefix: join(root, '..', '..'), source, loc, analysis };
}

/** Code files left out, grouped by reason (paths listed when few). */
function excludedSummary(source: PackageSource) {
  const groups = new Map<string, string[]>();
  for (const { path, reason } of source.excluded) groups.set(reason, [...(groups.get(reason) ?? []), path]);
  return Object.fromEntries(
    [...groups].map(([reason, paths]) => [reason, paths.length <= 12 ? paths : `${paths.length} files`]),
  );
}

const checksOf = (m: Measured) =>
  Object.fromEntries(
    m.analysis.checks.map((c) => [c.tool, c.reason ? `${c.status} (${c.reason})` : `${c.status}, ${c.findingCount}`]),
  );

/**
 * The dependency policy's findings (package.json): an "unknown package" that npm has just resolved from
 * the registry and installed certainly exists; dev dependencies are not installed, so not verified.
 */
function dependencyPolicy(m: Measured) {
  const flagged = new Set<string>();
  for (const f of m.analysis.findings.filter(onManifest)) {
    const name = /(\S+) is not in the offline package set/.exec(f.message)?.[1];
    if (name) flagged.add(name);
  }
  const installed = [...flagged].filter((name) => existsSync(join(m.prefix, 'node_modules', name, 'package.json')));
  return {
    findings: m.analysis.findings.filter((f) => onManifest(f) && f.severity !== 'info').length,
    packagesFlaggedUnknown: flagged.size,
    flaggedButInstalledFromRegistry: installed.length,
  };
}

function popularEntry(name: string, m: Measured) {
  const { findings } = m.analysis;
  const scored = findings.filter((f) => f.severity !== 'info');
  const onCode = scored.filter((f) => !onManifest(f));
  const sample = reviewedSample(name, findings);
  return {
    version: m.version,
    files: m.source.files.filter((f) => f.path !== 'package.json').map((f) => f.path),
    excluded: excludedSummary(m.source),
    loc: m.loc,
    findings: scored.length,
    infoFindings: findings.length - scored.length,
    perKloc: perKloc(scored.length, m.loc),
    perKlocIncludingInfo: perKloc(findings.length, m.loc),
    codeFindings: onCode.length,
    codePerKloc: perKloc(onCode.length, m.loc),
    dependencyPolicy: dependencyPolicy(m),
    bySeverity: bySeverity(findings),
    byRule: byRule(findings),
    byTool: byTool(findings),
    checks: checksOf(m),
    gate: m.analysis.gate,
    durationMs: m.analysis.durationMs,
    reviewedSample: sample,
    sampleVerdicts: {
      true: sample.filter((s) => s.verdict === 'true positive').length,
      false: sample.filter((s) => s.verdict === 'false positive').length,
      unreviewed: sample.filter((s) => s.verdict === 'unreviewed').length,
    },
  };
}

function vulnerableEntry(pkg: (typeof VULNERABLE)[number], m: Measured) {
  const contents = new Map(m.source.files.map((f) => [f.path, f.content]));
  const located = locateWeakness(pkg, m.analysis.findings, contents);
  return {
    version: m.version,
    advisory: pkg.advisory,
    weakness: pkg.weakness,
    location: located.where,
    found: located.found,
    ...(located.found !== 'found' && { whyMissed: pkg.whyMissed }),
    loc: m.loc,
    findings: m.analysis.findings.length,
    excluded: excludedSummary(m.source),
    checks: checksOf(m),
    gate: m.analysis.gate,
    findingsInFunction: located.inFunction,
    sameClassElsewhere: located.sameClassElsewhere.slice(0, 10),
    byRule: byRule(m.analysis.findings),
  };
}

/** Which detectors ran: the commit, and the validation files changed on top of it (others may be editing them). */
async function detectorsRevision() {
  const git = async (...args: string[]) =>
    (await promisify(execFile)('git', args, { cwd: join(__dirname, '..') })).stdout.trim();
  try {
    const changed = (await git('status', '--porcelain', '--', 'validation')).split('\n').filter(Boolean);
    return { commit: await git('rev-parse', 'HEAD'), uncommittedValidationFiles: changed.length };
  } catch {
    return { commit: 'unknown (not a git checkout)', uncommittedValidationFiles: null };
  }
}

/** Totals over all packages: the figures a closing note quotes. */
function summarise(
  popular: Record<string, ReturnType<typeof popularEntry>>,
  vulnerable: Record<string, ReturnType<typeof vulnerableEntry>>,
) {
  const all = Object.values(popular);
  const sum = (pick: (p: (typeof all)[number]) => number) => all.reduce((total, p) => total + pick(p), 0);
  const loc = sum((p) => p.loc);
  const found = Object.values(vulnerable).map((v) => v.found);
  return {
    popular: {
      loc,
      findings: sum((p) => p.findings),
      perKloc: perKloc(
        sum((p) => p.findings),
        loc,
      ),
      codeFindings: sum((p) => p.codeFindings),
      codePerKloc: perKloc(
        sum((p) => p.codeFindings),
        loc,
      ),
      sampleTrue: sum((p) => p.sampleVerdicts.true),
      sampleFalse: sum((p) => p.sampleVerdicts.false),
      sampleUnreviewed: sum((p) => p.sampleVerdicts.unreviewed),
      gatePassed: all.filter((p) => p.gate.verdict === 'passed').length,
    },
    vulnerable: {
      packages: found.length,
      found: found.filter((f) => f === 'found').length,
      foundElsewhere: found.filter((f) => f === 'found-elsewhere').length,
      notFound: found.filter((f) => f === 'not found').length,
    },
  };
}

const row = (cells: (string | number)[], widths: number[]) =>
  cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ');

async function main(): Promise<void> {
  const semgrep = process.env.SEMGREP_PATH || (await findExecutable('semgrep')) || null;
  const scratch = await mkdtemp(join(tmpdir(), 'qlp-real-packages-'));
  const started = performance.now();
  const popular: Record<string, ReturnType<typeof popularEntry>> = {};
  const dump: Record<string, unknown> = {};
  const vulnerable: Record<string, ReturnType<typeof vulnerableEntry>> = {};
  try {
    for (const { name, version } of POPULAR.filter((p) => wanted(p.name))) {
      const measured = await measure(scratch, name, version, semgrep);
      popular[name] = popularEntry(name, measured);
      dump[name] = measured.analysis.findings;
    }
    for (const pkg of VULNERABLE.filter((p) => wanted(p.name))) {
      const measured = await measure(scratch, pkg.name, pkg.version, semgrep);
      vulnerable[pkg.name] = vulnerableEntry(pkg, measured);
      dump[pkg.name] = measured.analysis.findings;
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  // Every finding of every package, for reviewing them (BENCH_FINDINGS_DUMP=<file>).
  if (process.env.BENCH_FINDINGS_DUMP) await writeFile(process.env.BENCH_FINDINGS_DUMP, JSON.stringify(dump));

  console.log(`\nsemgrep: ${semgrep ? semgrep : 'not on PATH (not assessed)'}`);
  const w1 = [14, 8, 6, 9, 9, 6, 9, 6, 11];
  const head = ['package', 'version', 'kLOC', 'findings', 'per kLOC', 'code', 'per kLOC', 'info', 'sample T/F'];
  console.log(row(head, w1));
  for (const [name, p] of Object.entries(popular)) {
    const { true: yes, false: no, unreviewed } = p.sampleVerdicts;
    const sample = `${yes}/${no}${unreviewed ? ` ?${unreviewed}` : ''}`;
    const kloc = (p.loc / 1000).toFixed(2);
    console.log(
      row(
        [
          name,
          p.version,
          kloc,
          p.findings,
          p.perKloc ?? '-',
          p.codeFindings,
          p.codePerKloc ?? '-',
          p.infoFindings,
          sample,
        ],
        w1,
      ),
    );
  }
  console.log('(findings: severity low and above; code: not on package.json; info: cost no points)');
  const totals = summarise(popular, vulnerable);
  console.log(
    `all popular: ${(totals.popular.loc / 1000).toFixed(2)} kLOC, ${totals.popular.findings} findings (${totals.popular.perKloc} per kLOC), ${totals.popular.codeFindings} on code (${totals.popular.codePerKloc} per kLOC); sample ${totals.popular.sampleTrue} true / ${totals.popular.sampleFalse} false; gate passed ${totals.popular.gatePassed} of ${Object.keys(popular).length}`,
  );
  for (const [name, p] of Object.entries(popular))
    for (const s of p.reviewedSample.filter((x) => x.verdict === 'unreviewed'))
      console.log(`  unreviewed ${name}: ${s.location} ${s.ruleId} (${s.severity}) ${s.message}`);

  console.log('');
  const w2 = [22, 28, 60, 16];
  console.log(row(['package@version', 'weakness', 'location', 'found?'], w2).replace(/ +$/, ''));
  for (const [name, v] of Object.entries(vulnerable)) {
    const weakness = v.weakness.split(':')[0]!;
    console.log(
      `${`${name}@${v.version}`.padEnd(w2[0]!)}  ${weakness.padEnd(w2[1]!)}  ${v.location.padEnd(w2[2]!)}  ${v.found}`,
    );
    for (const f of v.findingsInFunction.filter((x) => x.severity !== 'info'))
      console.log(`    in function: ${f.location} ${f.ruleId} (${f.severity})`);
    if (v.whyMissed) console.log(`    why not found: ${v.whyMissed}`);
  }
  const { vulnerable: cves } = totals;
  console.log(
    `known weaknesses: ${cves.found} of ${cves.packages} found in place, ${cves.foundElsewhere} found elsewhere, ${cves.notFound} not found`,
  );

  const output = {
    generatedAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    semgrep: semgrep ? ('assessed' as const) : ('not assessed' as const),
    detectors: await detectorsRevision(),
    method: {
      entryPoints: 'runStaticReview (layer 1, no LLM reviewer) + runCompliance (layer 3, all built-in frameworks)',
      loc: 'lines holding code (not blank, not comment-only) in the files analysed; package.json analysed but not counted',
      findings:
        'findings of severity low and above (they cost score points); codeFindings leave out the dependency policy on package.json; info findings reported apart',
      sample:
        'up to 10 scored findings, one rule at a time; each read in the code and judged (bench/real-packages/reviews.ts)',
      found:
        'found: a finding of the weakness class (CWE or rule) inside a function the advisory names; found-elsewhere: of that class elsewhere in the package',
    },
    summary: summarise(popular, vulnerable),
    popular,
    vulnerable,
  };
  // A subset run must not replace the full results.
  const dir = only ? tmpdir() : join(__dirname, 'results');
  const file = join(dir, only ? 'validation-real-packages-subset.json' : 'validation-real-packages.json');
  await mkdir(dir, { recursive: true });
  const config = await resolveConfig(join(__dirname, 'results', 'validation-real-packages.json'));
  await writeFile(file, await format(JSON.stringify(output), { ...config, parser: 'json' }));
  console.log(`\nsaved ${file}`);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
