import type { Finding } from '../../contracts/validation';
import { countBySeverity, sortFindings } from '../../validation/findings';
import { SINK_DISTANCE, type VulnerablePackage, type WeaknessLocation } from './packages';
import { REVIEWS } from './reviews';
import { enclosingFunctions, namesFunction } from './source';

// Turning a package's findings into the bench's figures: counts, the reviewed sample, and for a
// vulnerable version whether a finding of the weakness's class lands in the function the advisory names.

export const SAMPLE_SIZE = 10;

const tally = (findings: Finding[], key: (f: Finding) => string) =>
  Object.fromEntries(
    [...findings.reduce((m, f) => m.set(key(f), (m.get(key(f)) ?? 0) + 1), new Map<string, number>())].sort(
      ([a, x], [b, y]) => y - x || a.localeCompare(b),
    ),
  );

export const byRule = (findings: Finding[]) => tally(findings, (f) => f.ruleId);
export const byTool = (findings: Finding[]) => tally(findings, (f) => f.tool);
export const bySeverity = (findings: Finding[]) => countBySeverity(findings);

export const reviewKey = (f: Finding) => `${f.location?.path ?? '(project)'}:${f.location?.line ?? 0} ${f.ruleId}`;

/** Findings about the manifest (dependency policy), not about code. */
export const onManifest = (f: Finding) => f.location?.path === 'package.json';

/**
 * Up to SAMPLE_SIZE findings, one rule at a time (rules by their most severe finding), so the sample
 * shows what each rule does rather than ten of the noisiest one. Scored findings on code first; manifest
 * findings, then info ones (they cost no points), only fill what remains.
 */
export function pickSample(findings: Finding[]): Finding[] {
  const scored = findings.filter((f) => f.severity !== 'info');
  const pools = [
    scored.filter((f) => !onManifest(f)),
    scored.filter(onManifest),
    findings.filter((f) => f.severity === 'info'),
  ];
  const picked: Finding[] = [];
  for (const pool of pools) {
    const queues = new Map<string, Finding[]>();
    for (const f of sortFindings(pool)) queues.set(f.ruleId, [...(queues.get(f.ruleId) ?? []), f]);
    while (picked.length < SAMPLE_SIZE && [...queues.values()].some((q) => q.length)) {
      for (const queue of queues.values()) {
        const next = queue.shift();
        if (next && picked.length < SAMPLE_SIZE) picked.push(next);
      }
    }
  }
  return picked;
}

export function reviewedSample(name: string, findings: Finding[]) {
  return pickSample(findings).map((f) => {
    const review = REVIEWS[name]?.[reviewKey(f)];
    return {
      ruleId: f.ruleId,
      severity: f.severity,
      location: f.location ? `${f.location.path}:${f.location.line}` : '(project)',
      message: f.message,
      verdict: review?.verdict ?? 'unreviewed',
      reason: review?.reason ?? '',
    };
  });
}

/** A finding of the weakness's class: one of its CWE ids, or a rule id naming it. */
export const matchesClass = (f: Finding, pkg: VulnerablePackage) =>
  (f.cwe ?? []).some((cwe) => pkg.cwes.includes(cwe)) || pkg.ruleWords.test(f.ruleId);

const brief = (f: Finding, where?: string[]) => ({
  ruleId: f.ruleId,
  severity: f.severity,
  location: f.location ? `${f.location.path}:${f.location.line}` : '(project)',
  ...(where && { function: where[0] ?? '(top level)' }),
  message: f.message,
});

export type Found = 'found' | 'found-elsewhere' | 'not found';

/** 1-based lines of a location's vulnerable operation; a location whose sink is not in the file is a bench error. */
export function sinkLines(location: WeaknessLocation, content: string | undefined): number[] {
  const lines = (content ?? '').split('\n');
  const hits = lines.flatMap((text, i) => (location.sinks.some((sink) => sink.test(text)) ? [i + 1] : []));
  if (!hits.length) throw new Error(`no sink line found in ${location.file}: the package differs from the advisory`);
  return hits;
}

/**
 * found: a finding of the weakness's class in a function the advisory names, within SINK_DISTANCE lines
 * of the vulnerable operation; found-elsewhere: of that class anywhere else (in the function but about
 * another operation included); not found: none of that class.
 */
export function locateWeakness(pkg: VulnerablePackage, findings: Finding[], contents: Map<string, string>) {
  const sinks = pkg.locations.map((loc) => ({ loc, lines: sinkLines(loc, contents.get(loc.file)) }));
  const inFunction: ReturnType<typeof brief>[] = [];
  const sameClassElsewhere: ReturnType<typeof brief>[] = [];
  let found: Found = 'not found';
  for (const f of sortFindings(findings.filter((x) => x.severity !== 'info'))) {
    const path = f.location?.path;
    const line = f.location?.line ?? 0;
    const content = path ? contents.get(path) : undefined;
    const names = path && content ? enclosingFunctions(path, content, line) : [];
    const within = sinks.filter(({ loc }) => loc.file === path && loc.functions.some((fn) => namesFunction(names, fn)));
    const atSink = within.some(({ lines }) => lines.some((l) => Math.abs(l - line) <= SINK_DISTANCE));
    const sameClass = matchesClass(f, pkg);
    if (within.length) inFunction.push(brief(f, names));
    if (atSink && sameClass) found = 'found';
    else if (sameClass) {
      sameClassElsewhere.push(brief(f, names));
      if (found === 'not found') found = 'found-elsewhere';
    }
  }
  const where = sinks.map(({ loc, lines }) => `${loc.file}: ${loc.functions.join(', ')} (line ${lines.join(', ')})`);
  return { found, where: where.join('; '), inFunction, sameClassElsewhere };
}
