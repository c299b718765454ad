import type {
  ComplianceReport,
  DynamicReport,
  Finding,
  LayerFailure,
  Recommendation,
  ScoreExplanation,
  Scores,
  Severity,
  StaticReport,
  Thresholds,
  VerdictStatus,
} from '../contracts/validation';
import type { RequirementCoverage } from '../contracts/requirements';
import { coverageFailures, coverageFindings, coverageGaps } from './coverage/analyse';
import { formatLocation, moreSevere, SEVERITY_ORDER, SEVERITY_WEIGHTS } from './findings';

/** Defaults when configuration says nothing; docs/validation.md explains each. */
export const DEFAULT_THRESHOLDS: Thresholds = {
  minConfidenceScore: 70,
  securityThreshold: 70,
  qualityThreshold: 60,
  complianceThreshold: 70,
};

export const CAPS = {
  /** Any critical finding: the security score cannot exceed this. */
  securityWithCritical: 40,
  /** Any failed control of critical severity. */
  complianceWithCritical: 40,
  /** Any critical finding anywhere. */
  overallWithCritical: 50,
  /** The project does not type-check. */
  qualityWhenNotCompiling: 59,
  /** Its tests fail, it does not build in the sandbox, or it hit a sandbox limit. */
  qualityWhenDynamicFails: 59,
} as const;

export const OVERALL_WEIGHTS = { security: 0.4, quality: 0.3, compliance: 0.3 } as const;

// Diagnostics about unused code: a smell, not a build break.
const UNUSED_DIAGNOSTICS = new Set(['TS6133', 'TS6138', 'TS6192', 'TS6196', 'TS6198', 'TS6199', 'TS6205']);

/**
 * Injection classes: input that becomes code (CWE-94/95), a shell command (CWE-77/78/88), SQL (CWE-89),
 * a NoSQL or expression-language query (CWE-943/917) or a template (CWE-1336).
 */
export const INJECTION_CWES = new Set([
  'CWE-74',
  'CWE-77',
  'CWE-78',
  'CWE-88',
  'CWE-89',
  'CWE-94',
  // Deserialisers that run code embedded in the data (node-serialize, js-yaml's full schema): code injection.
  'CWE-502',
  'CWE-95',
  'CWE-917',
  'CWE-943',
  'CWE-1336',
]);
// These fire on the construct itself, literal code included (`new Function('return 1')`): not evidence of injection.
const CONSTRUCT_ONLY_RULES = new Set(['eslint/no-eval', 'eslint/no-new-func', 'eslint/no-implied-eval']);

/** A high or critical finding of an injection class: it fails the verdict whatever the scores. */
export const isInjectionFinding = (item: Finding) =>
  item.category === 'security' &&
  SEVERITY_WEIGHTS[item.severity] >= SEVERITY_WEIGHTS.high &&
  !CONSTRUCT_ONLY_RULES.has(item.ruleId) &&
  (item.cwe ?? []).some((cwe) => INJECTION_CWES.has(cwe));

/**
 * Compiler diagnostics that exist only because third-party declarations are not installed for review:
 * "cannot find module" / "no declaration file" for a package, and implicit-any parameters the type
 * check traced to such a package (it marks them `info`). They say nothing about the code's types.
 */
export function isDependencyTypeGap(item: Finding): boolean {
  if (item.tool !== 'typescript') return false;
  if (item.severity === 'info' && /not installed for review/.test(item.message)) return true;
  if (!/^TS(2307|7016)$/.test(item.ruleId)) return false;
  const module = /'([^']+)'/.exec(item.message)?.[1];
  return module !== undefined && !/^(\.|\/|node:)/.test(module);
}

// Reasons a check did not run that say nothing about the code: the tool is not installed, or there is nothing to check.
const ABSENT_OR_NOTHING = /not installed|^no .* files to /;

/** Control characters in text files and clashing paths between tasks: the gate cannot pass them. */
export const blocksRelease = (item: Finding) =>
  item.tool === 'content' && SEVERITY_WEIGHTS[item.severity] >= SEVERITY_WEIGHTS.high;

export interface ScoringInput {
  static: StaticReport | LayerFailure;
  compliance: ComplianceReport | LayerFailure;
  /** Layer 2; absent for intents validated before it existed. */
  dynamic?: DynamicReport | LayerFailure;
  thresholds: Thresholds;
  /** The requirement coverage table (validation/coverage); absent for plans without requirements. */
  coverage?: RequirementCoverage[];
}

export interface ScoringResult {
  scores: Scores;
  explanations: {
    overall: ScoreExplanation;
    security: ScoreExplanation;
    quality: ScoreExplanation;
    compliance: ScoreExplanation;
  };
  verdict: { status: VerdictStatus; reasons: string[] };
  recommendations: Recommendation[];
  /** Every finding of both layers; a weakness several detectors saw at one place counts once. */
  findings: Finding[];
}

const isFailure = (layer: StaticReport | ComplianceReport | DynamicReport | LayerFailure): layer is LayerFailure =>
  'status' in layer;
const clamp = (value: number) => Math.max(0, Math.min(100, Math.round(value)));

/** The weakness classes a finding names: its CWEs, or its rule when it names none. */
const classesOf = (item: Finding) => (item.cwe?.length ? item.cwe : [`rule:${item.ruleId}`]);

/**
 * Security findings from every tool, counted per weakness and place: distinct classes each count (five
 * different weaknesses on one line cost what they cost on five lines), and so does one rule firing at
 * several places of a line. Only the same class (a shared CWE) reported by different detectors (tools or
 * rules) at the same file:line is merged, at the highest severity, keeping every control mapping: semgrep,
 * ESLint and a compliance check that see one weakness cost once.
 */
export function mergeSecurityFindings(findings: Finding[]): Finding[] {
  const byPlace = new Map<string, { kept: Finding; rules: Set<string>; classes: Set<string> }[]>();
  const unplaced: Finding[] = [];
  const rank = (f: Finding) => SEVERITY_ORDER.indexOf(f.severity) * 2 + (f.controls?.length ? 0 : 1);
  for (const item of findings.filter((f) => f.category === 'security')) {
    if (!item.location) {
      unplaced.push(item);
      continue;
    }
    const key = `${item.location.path}:${item.location.line}`;
    const groups = byPlace.get(key) ?? [];
    byPlace.set(key, groups);
    const classes = classesOf(item);
    const detector = `${item.tool}:${item.ruleId}`;
    const same = groups.find(
      (group) =>
        classes.some((c) => group.classes.has(c)) &&
        (!group.rules.has(detector) || group.kept.fingerprint === item.fingerprint),
    );
    if (!same) {
      groups.push({ kept: item, rules: new Set([detector]), classes: new Set(classes) });
      continue;
    }
    // Keep the most severe; on a tie, the one that names controls. Either way, no control mapping is lost.
    const kept = rank(item) < rank(same.kept) ? item : same.kept;
    const controls = [...new Set([...(same.kept.controls ?? []), ...(item.controls ?? [])])];
    same.kept = controls.length ? { ...kept, controls } : kept;
    same.rules.add(detector);
    classes.forEach((c) => same.classes.add(c));
  }
  return [...[...byPlace.values()].flatMap((groups) => groups.map((group) => group.kept)), ...unplaced];
}

function deductions(findings: Finding[]): ScoreExplanation['deductions'] {
  const byRule = new Map<string, { severity: Severity; count: number; points: number }>();
  for (const item of findings) {
    const entry = byRule.get(item.ruleId) ?? { severity: item.severity, count: 0, points: 0 };
    entry.count++;
    entry.points += SEVERITY_WEIGHTS[item.severity];
    entry.severity = moreSevere(entry.severity, item.severity);
    byRule.set(item.ruleId, entry);
  }
  return [...byRule].map(([ruleId, entry]) => ({ ruleId, ...entry })).sort((a, b) => b.points - a.points);
}

function penaltyScore(
  findings: Finding[],
  formula: string,
  cap: { value: number; reason: string } | undefined,
  notAssessed: string[],
): ScoreExplanation {
  const lines = deductions(findings);
  const raw = clamp(100 - lines.reduce((sum, line) => sum + line.points, 0));
  const score = cap ? Math.min(raw, cap.value) : raw;
  return { score, formula, deductions: lines, ...(cap && raw > cap.value && { cap }), notAssessed };
}

const notScored = (formula: string, reason: string): ScoreExplanation => ({
  score: null,
  formula,
  deductions: [],
  notAssessed: [reason],
});

/** Computes the four scores, the verdict and the prioritised recommendations from the two layers' reports. */
export function scoreValidation(input: ScoringInput): ScoringResult {
  const staticLayer = isFailure(input.static) ? undefined : input.static;
  const complianceLayer = isFailure(input.compliance) ? undefined : input.compliance;
  const staticFindings = staticLayer?.findings ?? [];
  const complianceFindings = complianceLayer?.findings ?? [];

  const uncovered =
    staticLayer?.checks
      .filter((c) => c.status === 'not_assessed' || c.status === 'skipped')
      .map((c) => `${c.tool}: ${c.reason ?? c.status}`) ?? [];
  const securityFindings = mergeSecurityFindings([...staticFindings, ...complianceFindings]);
  const hasCritical = securityFindings.some((f) => f.severity === 'critical');

  const security = staticLayer
    ? penaltyScore(
        securityFindings,
        '100 − Σ severity weight of security findings (each rule × place; one weakness seen by several detectors at a place counts once, at its highest severity); critical 25, high 10, medium 4, low 1',
        hasCritical ? { value: CAPS.securityWithCritical, reason: 'at least one critical finding' } : undefined,
        [
          ...uncovered,
          ...(complianceLayer ? [] : ['compliance layer not assessed: its code checks did not contribute']),
        ],
      )
    : notScored('100 − Σ severity weights', 'static layer not assessed');

  const typeGaps = staticFindings.filter(isDependencyTypeGap);
  const qualityFindings = staticFindings
    .filter((f) => f.category === 'quality')
    .map((f) => (isDependencyTypeGap(f) && f.severity !== 'info' ? { ...f, severity: 'info' as const } : f))
    .map((f) => (f.tool === 'typescript' && UNUSED_DIAGNOSTICS.has(f.ruleId) ? { ...f, severity: 'low' as const } : f));
  const breaksBuild = qualityFindings.some(
    (f) => f.tool === 'typescript' && SEVERITY_WEIGHTS[f.severity] >= SEVERITY_WEIGHTS.medium,
  );
  const dynamicLayer = input.dynamic && !isFailure(input.dynamic) ? input.dynamic : undefined;
  qualityFindings.push(...(dynamicLayer?.findings ?? []));
  // What the intent asked for and the project does not show it built: each uncovered requirement.
  qualityFindings.push(...coverageFindings(input.coverage ?? []));
  const qualityCap = breaksBuild
    ? { value: CAPS.qualityWhenNotCompiling, reason: 'the project does not type-check' }
    : dynamicLayer?.outcome === 'failed'
      ? { value: CAPS.qualityWhenDynamicFails, reason: 'its tests, build or sandbox limits failed in layer 2' }
      : undefined;
  const quality = staticLayer
    ? penaltyScore(
        qualityFindings,
        '100 − Σ severity weight of quality findings (compiler, lint, sandbox build and tests, uncovered requirements); high 10, medium 4, low 1',
        qualityCap,
        [
          ...uncovered.filter((u) => /^(typescript|eslint|llm)/.test(u)),
          ...(input.dynamic && isFailure(input.dynamic) ? [`dynamic tests not assessed: ${input.dynamic.reason}`] : []),
          ...(typeGaps.length ? [typeGapNote(typeGaps)] : []),
        ],
      )
    : notScored('100 − Σ severity weights', 'static layer not assessed');

  const compliance = complianceLayer
    ? complianceScore(complianceLayer)
    : notScored('weighted share of applicable controls passed', 'compliance layer not assessed');

  const parts = { security: security.score, quality: quality.score, compliance: compliance.score };
  const anyCritical = hasCritical || staticFindings.some((f) => f.severity === 'critical');
  const overall: ScoreExplanation =
    parts.security === null || parts.quality === null || parts.compliance === null
      ? notScored('0.4 × security + 0.3 × quality + 0.3 × compliance', 'a component score is not assessed')
      : (() => {
          const raw = clamp(
            OVERALL_WEIGHTS.security * parts.security +
              OVERALL_WEIGHTS.quality * parts.quality +
              OVERALL_WEIGHTS.compliance * parts.compliance,
          );
          const cap = anyCritical
            ? { value: CAPS.overallWithCritical, reason: 'at least one critical finding' }
            : undefined;
          return {
            score: cap ? Math.min(raw, cap.value) : raw,
            formula: '0.4 × security + 0.3 × quality + 0.3 × compliance',
            deductions: [],
            ...(cap && raw > cap.value && { cap }),
            notAssessed: [],
          };
        })();

  const scores: Scores = {
    overall: overall.score,
    security: security.score,
    quality: quality.score,
    compliance: compliance.score,
  };
  const findings = [...securityFindings, ...qualityFindings];
  return {
    scores,
    explanations: { overall, security, quality, compliance },
    verdict: verdictOf(input, scores, anyCritical, staticLayer, complianceLayer),
    recommendations: recommend(findings),
    findings,
  };
}

/** The quality explanation's note on diagnostics left out because third-party declarations are missing. */
function typeGapNote(gaps: Finding[]): string {
  const moduleOf = (f: Finding) =>
    /its type would come from '([^']+)'/.exec(f.message)?.[1] ?? /'([^']+)'/.exec(f.message)?.[1];
  const modules = [...new Set(gaps.map(moduleOf).filter((m): m is string => m !== undefined))];
  const rules = [...new Set(gaps.map((f) => f.ruleId))].sort();
  return (
    `type-check incomplete: ${gaps.length} diagnostic(s) (${rules.join(', ')}) only reflect third-party type declarations ` +
    `not installed for review${modules.length ? ` (${modules.slice(0, 5).join(', ')}${modules.length > 5 ? ', …' : ''})` : ''}; ` +
    'reported as info, not counted and not a build break'
  );
}

/** Per framework: the share of applicable controls that pass, each weighted by its most severe rule; then the mean. */
function complianceScore(report: ComplianceReport): ScoreExplanation {
  const failed = report.frameworks.flatMap((fw) =>
    fw.controls.filter((c) => c.status === 'fail').map((c) => ({ fw: fw.framework, control: c })),
  );
  const perFramework = report.frameworks.map((fw) => {
    const applicable = fw.controls.filter((c) => c.status === 'pass' || c.status === 'fail');
    const total = applicable.reduce((sum, c) => sum + SEVERITY_WEIGHTS[c.severity], 0);
    const passed = applicable
      .filter((c) => c.status === 'pass')
      .reduce((sum, c) => sum + SEVERITY_WEIGHTS[c.severity], 0);
    return total === 0 ? 100 : (100 * passed) / total;
  });
  const raw = perFramework.length ? clamp(perFramework.reduce((a, b) => a + b, 0) / perFramework.length) : 100;
  const critical = failed.some((f) => f.control.severity === 'critical');
  const cap = critical
    ? { value: CAPS.complianceWithCritical, reason: 'a control with a critical rule fails' }
    : undefined;
  return {
    score: cap ? Math.min(raw, cap.value) : raw,
    formula:
      'mean over frameworks of 100 × Σ weight(passed controls) / Σ weight(passed + failed controls), weight = most severe rule of the control',
    deductions: failed.map(({ fw, control }) => ({
      ruleId: `${fw} ${control.id}`,
      severity: control.severity,
      count: control.evidence.length,
      points: SEVERITY_WEIGHTS[control.severity],
    })),
    ...(cap && raw > cap.value && { cap }),
    notAssessed: [
      ...report.frameworks.flatMap((fw) =>
        fw.controls
          .filter((c) => c.status === 'not_assessed')
          .map((c) => `${fw.framework} ${c.id}: ${c.reason ?? 'not assessed'}`),
      ),
      ...(report.customRules.status === 'invalid'
        ? [`tenant rules invalid: ${report.customRules.errors.slice(0, 3).join('; ')}`]
        : []),
    ],
  };
}

function verdictOf(
  input: ScoringInput,
  scores: Scores,
  anyCritical: boolean,
  staticLayer: StaticReport | undefined,
  complianceLayer: ComplianceReport | undefined,
): ScoringResult['verdict'] {
  // Gaps make the verdict `not_assessed` (never passed); failures make it `failed`.
  const gaps: string[] = [];
  const failures: string[] = [];
  if (!staticLayer) gaps.push(`static review not assessed: ${(input.static as LayerFailure).reason}`);
  if (!complianceLayer) gaps.push(`compliance not assessed: ${(input.compliance as LayerFailure).reason}`);
  if (input.dynamic && isFailure(input.dynamic)) gaps.push(`dynamic tests not assessed: ${input.dynamic.reason}`);
  if (input.dynamic && !isFailure(input.dynamic) && input.dynamic.outcome === 'failed') {
    const { tests, limitHits } = input.dynamic.run;
    failures.push(
      tests.failed
        ? `${tests.failed} test(s) failed in the sandbox`
        : limitHits.length
          ? `the sandbox stopped the run at its ${limitHits.map((h) => h.limit).join(' and ')} limit`
          : 'the project did not install or build in the sandbox',
    );
  }
  const secrets = staticLayer?.checks.find((c) => c.tool === 'secrets');
  if (secrets?.status === 'not_assessed') gaps.push(`secret detection not assessed: ${secrets.reason}`);
  // A checker that crashed or timed out has not read the code (an absent tool or nothing to check is not that).
  for (const check of staticLayer?.checks ?? [])
    if (check.status === 'not_assessed' && check.tool !== 'secrets' && !ABSENT_OR_NOTHING.test(check.reason ?? ''))
      gaps.push(`${check.tool} not assessed: ${check.reason ?? 'no reason given'}`);
  // A file that ships unread (binary, unparsable, timed out, of a type no check knows) is never `passed`.
  const unread = [...new Set((staticLayer?.notAssessedFiles ?? []).map((file) => file.path))];
  if (unread.length)
    gaps.push(
      `file(s) not assessed: ${unread.slice(0, 5).join(', ')}${unread.length > 5 ? ` and ${unread.length - 5} more` : ''}`,
    );
  // Content that hides from reviewers or cannot be unpacked fails whatever the scores.
  const blocking = (staticLayer?.findings ?? []).filter(blocksRelease);
  if (blocking.length)
    failures.push(
      `content policy: ${blocking
        .slice(0, 3)
        .map((f) => f.message)
        .join('; ')}${blocking.length > 3 ? `; and ${blocking.length - 3} more` : ''}`,
    );
  const unassessed =
    complianceLayer?.frameworks.flatMap((fw) =>
      fw.controls.filter((c) => c.status === 'not_assessed').map((c) => `${fw.framework} ${c.id}`),
    ) ?? [];
  if (unassessed.length) gaps.push(`controls not assessed: ${unassessed.join(', ')}`);
  if (complianceLayer?.customRules.status === 'invalid')
    gaps.push('tenant compliance rules are invalid and were not assessed');
  // Asked for and not shown built: never `passed`. Controls that could not be verified: never read as covered.
  failures.push(...coverageFailures(input.coverage ?? []));
  gaps.push(...coverageGaps(input.coverage ?? []));

  const t = input.thresholds;
  if (anyCritical) failures.push('critical findings present');
  const injections = [...(staticLayer?.findings ?? []), ...(complianceLayer?.findings ?? [])].filter(
    isInjectionFinding,
  );
  if (injections.length) {
    const places = [...new Set(injections.map((f) => `${f.ruleId} at ${formatLocation(f)}`))];
    failures.push(
      `injection finding(s) fail the verdict regardless of scores: ${places.slice(0, 3).join('; ')}${places.length > 3 ? `; and ${places.length - 3} more` : ''}`,
    );
  }
  const below = (name: string, score: number | null, threshold: number) => {
    if (score !== null && score < threshold) failures.push(`${name} score ${score} is below ${threshold}`);
  };
  below('overall', scores.overall, t.minConfidenceScore);
  below('security', scores.security, t.securityThreshold);
  below('quality', scores.quality, t.qualityThreshold);
  below('compliance', scores.compliance, t.complianceThreshold);
  const status: VerdictStatus = failures.length ? 'failed' : gaps.length ? 'not_assessed' : 'passed';
  return { status, reasons: [...failures, ...gaps] };
}

const MAX_RECOMMENDATIONS = 10;

/** One recommendation per rule, most severe and most frequent first. */
export function recommend(findings: Finding[]): Recommendation[] {
  const byRule = new Map<string, Finding[]>();
  for (const item of findings.filter((f) => f.severity !== 'info'))
    byRule.set(item.ruleId, [...(byRule.get(item.ruleId) ?? []), item]);
  return [...byRule.values()]
    .map((items) => ({ items, severity: items.map((i) => i.severity).reduce(moreSevere) }))
    .sort(
      (a, b) =>
        SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || b.items.length - a.items.length,
    )
    .slice(0, MAX_RECOMMENDATIONS)
    .map(({ items, severity }, index) => ({
      priority: index + 1,
      severity,
      ruleId: items[0]!.ruleId,
      title: items[0]!.message.length > 160 ? `${items[0]!.message.slice(0, 157)}...` : items[0]!.message,
      remediation: items.find((i) => i.remediation)?.remediation ?? 'Review and fix the finding.',
      occurrences: items.length,
      locations: [...new Set(items.map(formatLocation))].slice(0, 5),
      controls: [...new Set(items.flatMap((i) => i.controls ?? []))],
    }));
}
