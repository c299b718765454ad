import type {
  ComplianceReport,
  ControlResult,
  ControlStatus,
  CustomRulesStatus,
  Evidence,
  Finding,
  FrameworkResult,
  Severity,
} from '../../contracts/validation';
import { CAPABILITY_TITLES, type Capability, type CoverageEvidence } from '../../contracts/requirements';
import { DETECTORS, detectCapability, keepsRecords, servesRequests } from '../coverage/detectors';
import { finding, moreSevere, sortFindings } from '../findings';
import type { Project } from '../project';
import { buildContext, type CheckContext, type CheckOutcome } from './ast';
import type { ComplianceCheck } from './check';
import { CHECKS } from './checks';
import { evaluatePatternRule } from './custom-rules';
import { BUILT_IN_PACKS } from './packs';
import {
  builtInFrameworks,
  type Applicability,
  type BuiltInFramework,
  type CustomRulesFile,
  type RulePack,
} from './schema';

export interface ComplianceOptions {
  /** Frameworks that apply; default: the tenant file's choice, else all built-in ones. */
  frameworks?: BuiltInFramework[];
  /**
   * Frameworks the intent claims (its requirements name them): always assessed, and their required
   * controls (packs' `required`) must be implemented, not merely left unbroken.
   */
  claimed?: BuiltInFramework[];
  customRules?: CustomRulesFile;
  /** Set when the tenant's file exists but is invalid: reported, and its rules are not assessed. */
  customRulesErrors?: string[];
  /** Called between checks, e.g. to heartbeat an activity. */
  onProgress?: (check: string) => void;
  /** The checks rule packs refer to; tests substitute failing ones. */
  checks?: ReadonlyMap<string, ComplianceCheck>;
}

/** A required control's presence check: the capability is implemented (pass), missing (fail) or does not apply. */
interface RequiredOutcome {
  required: Capability;
  status: 'pass' | 'fail' | 'not_applicable';
  evidence: CoverageEvidence[];
  reason: string;
}

type Outcome = CheckOutcome | { error: string } | RequiredOutcome;

interface RuleRef {
  ruleId: string;
  /** `check:<id>`, `custom:<id>` or `required:<capability>:<applies to>`: which outcome decides it. */
  source: string;
  severity: Severity;
}

interface Draft {
  framework: string;
  name: string;
  version: string;
  notCovered: FrameworkResult['notCovered'];
  controls: Map<string, { title: string; rules: RuleRef[] }>;
}

const EVIDENCE_PER_CONTROL = 25;

/** Layer 3: runs the checks the selected packs and tenant rules need, and reports per control. */
export async function runCompliance(
  project: Project,
  meta: { intentId: string; generatedAt?: Date },
  options: ComplianceOptions = {},
): Promise<ComplianceReport> {
  const ctx = buildContext(project);
  const claimed = options.claimed ?? [];
  const selected = [
    ...new Set([...(options.frameworks ?? options.customRules?.frameworks ?? [...builtInFrameworks]), ...claimed]),
  ];
  const drafts = new Map<string, Draft>(selected.map((id) => [id, draftOf(BUILT_IN_PACKS[id], claimed.includes(id))]));
  const customRules = options.customRules?.rules ?? [];
  addCustomRules(drafts, customRules, new Set(builtInFrameworks));

  const sources = new Set(
    [...drafts.values()].flatMap((d) => [...d.controls.values()].flatMap((c) => c.rules.map((r) => r.source))),
  );
  const outcomes = new Map<string, Outcome>();
  for (const source of sources) {
    const [kind, id, appliesTo] = source.split(':') as ['check' | 'custom' | 'required', string, string?];
    options.onProgress?.(source);
    if (kind === 'required') {
      outcomes.set(source, requiredOutcome(ctx, id as Capability, appliesTo as Applicability));
      continue;
    }
    const target = kind === 'check' ? { check: id } : { custom: customRules.find((r) => r.id === id)! };
    outcomes.set(source, await evaluate(ctx, target, options.checks ?? CHECKS));
  }

  const frameworks = [...drafts.values()].map((draft) => frameworkResult(draft, outcomes));
  const checkErrors = [...outcomes].flatMap(([source, outcome]) =>
    'error' in outcome ? [{ check: source, reason: outcome.error }] : [],
  );
  return {
    schemaVersion: 1,
    layer: 'compliance',
    intentId: meta.intentId,
    generatedAt: (meta.generatedAt ?? new Date()).toISOString(),
    frameworks: frameworks.map((fw) =>
      claimed.includes(fw.framework as BuiltInFramework) ? { ...fw, claimed: true } : fw,
    ),
    findings: sortFindings(findingsOf(drafts, outcomes, customRules)),
    checkErrors,
    customRules: customRulesStatus(options, customRules.length),
  };
}

function draftOf(pack: RulePack, claimed: boolean): Draft {
  const controls = new Map(pack.controls.map((c) => [c.id, { title: c.title, rules: [] as RuleRef[] }]));
  for (const rule of pack.rules) {
    for (const id of rule.controls)
      controls.get(id)!.rules.push({ ruleId: rule.id, source: `check:${rule.check}`, severity: rule.severity });
  }
  // A framework the intent claims must also show the controls it requires are implemented.
  for (const entry of claimed ? pack.required : []) {
    controls.get(entry.control)!.rules.push({
      ruleId: entry.id,
      source: `required:${entry.capability}:${entry.appliesTo}`,
      severity: entry.severity,
    });
  }
  // Controls no rule of this selection checks (only required ones, framework not claimed) are left out.
  for (const [id, control] of controls) if (!control.rules.length) controls.delete(id);
  return { framework: pack.framework, name: pack.name, version: pack.version, notCovered: pack.notCovered, controls };
}

const APPLIES: Record<Applicability, { test: (ctx: CheckContext) => boolean; otherwise: string }> = {
  server: {
    test: servesRequests,
    otherwise: 'the project serves no network requests (no HTTP server, listener or web framework)',
  },
  records: {
    test: keepsRecords,
    otherwise: 'the project keeps no records (no store or repository, database client or file writes)',
  },
  'server-or-records': {
    test: (ctx) => servesRequests(ctx) || keepsRecords(ctx),
    otherwise: 'the project neither serves requests nor keeps records: nothing changes that could be audited',
  },
};

/** A required control's presence check, with the reason whatever the result. */
function requiredOutcome(ctx: CheckContext, capability: Capability, appliesTo: Applicability): RequiredOutcome {
  const title = CAPABILITY_TITLES[capability];
  if (!APPLIES[appliesTo].test(ctx))
    return {
      required: capability,
      status: 'not_applicable',
      evidence: [],
      reason: `not applicable: ${APPLIES[appliesTo].otherwise}`,
    };
  const evidence = detectCapability(ctx, capability);
  return evidence.length
    ? {
        required: capability,
        status: 'pass',
        evidence,
        reason: `${title} implemented at ${evidence
          .slice(0, 3)
          .map((e) => `${e.path}:${e.line}`)
          .join(', ')}`,
      }
    : {
        required: capability,
        status: 'fail',
        evidence: [],
        reason: `requires ${title}, and none was found: looked for ${DETECTORS[capability].looksFor}`,
      };
}

/** Tenant rules join the selected built-in frameworks' controls, or define the tenant's own frameworks. */
function addCustomRules(drafts: Map<string, Draft>, rules: CustomRulesFile['rules'], builtIn: Set<string>): void {
  for (const rule of rules) {
    for (const [framework, controlIds] of Object.entries(rule.controls)) {
      if (builtIn.has(framework) && !drafts.has(framework)) continue;
      const draft = drafts.get(framework) ?? {
        framework,
        name: `${framework} (tenant rules)`,
        version: 'tenant',
        notCovered: [],
        controls: new Map(),
      };
      drafts.set(framework, draft);
      for (const id of controlIds) {
        const control = draft.controls.get(id) ?? { title: rule.title, rules: [] };
        control.rules.push({
          ruleId: `custom.${rule.id}`,
          source: rule.check ? `check:${rule.check}` : `custom:${rule.id}`,
          severity: rule.severity,
        });
        draft.controls.set(id, control);
      }
    }
  }
}

async function evaluate(
  ctx: CheckContext,
  target: { check: string } | { custom: CustomRulesFile['rules'][number] },
  checks: ReadonlyMap<string, ComplianceCheck>,
): Promise<Outcome> {
  try {
    if ('custom' in target) return evaluatePatternRule(ctx, target.custom);
    const check = checks.get(target.check);
    if (!check) return { error: `unknown check ${target.check}` };
    return await check.run(ctx);
  } catch (error) {
    // A check that throws has not looked at the code: its controls are not assessed, never passed.
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

function ruleStatus(outcome: Outcome | undefined): ControlStatus {
  if (outcome && 'required' in outcome) return outcome.status;
  if (!outcome || !('hits' in outcome)) return 'not_assessed';
  if (outcome.hits.length > 0) return 'fail';
  return outcome.applicable ? 'pass' : 'not_applicable';
}

function frameworkResult(draft: Draft, outcomes: Map<string, Outcome>): FrameworkResult {
  const controls: ControlResult[] = [...draft.controls].map(([id, control]) => {
    const rules = control.rules.map((rule) => ({ rule, status: ruleStatus(outcomes.get(rule.source)) }));
    const statuses = rules.map((r) => r.status);
    const status: ControlStatus = statuses.includes('fail')
      ? 'fail'
      : statuses.includes('not_assessed')
        ? 'not_assessed'
        : statuses.includes('pass')
          ? 'pass'
          : 'not_applicable';
    const evidence: Evidence[] = control.rules.flatMap((rule) => {
      const outcome = outcomes.get(rule.source);
      if (outcome && 'required' in outcome)
        return outcome.evidence.map((e) => ({ ruleId: rule.ruleId, path: e.path, line: e.line, message: e.detail }));
      return outcome && 'hits' in outcome
        ? outcome.hits.map((hit) => ({ ruleId: rule.ruleId, path: hit.path, line: hit.line, message: hit.message }))
        : [];
    });
    const errors = control.rules.flatMap((rule) => {
      const outcome = outcomes.get(rule.source);
      return outcome && 'error' in outcome ? [outcome.error] : [];
    });
    const required = control.rules.flatMap((rule) => {
      const outcome = outcomes.get(rule.source);
      return outcome && 'required' in outcome ? [outcome] : [];
    });
    // Its weight: a failed control's comes from the rules that FAILED, a passed one's from the rules that
    // applied (a control is not critical because a critical rule of it passed).
    const weighing = rules.filter((r) => r.status === (status === 'fail' ? 'fail' : 'pass'));
    const severity = (weighing.length ? weighing : rules).map((r) => r.rule.severity).reduce(moreSevere);
    const reason =
      status === 'not_assessed'
        ? `check failed to run: ${errors.join('; ')}`
        : required.some((r) => r.status === 'fail')
          ? required
              .filter((r) => r.status === 'fail')
              .map((r) => r.reason)
              .join('; ')
          : status === 'not_applicable'
            ? (required.find((r) => r.status === 'not_applicable')?.reason ??
              'nothing in the project that these rules apply to')
            : undefined;
    return {
      id,
      title: control.title,
      status,
      severity,
      rules: control.rules.map((r) => r.ruleId),
      evidence: evidence.slice(0, EVIDENCE_PER_CONTROL),
      ...(reason && { reason }),
      ...(required.length && {
        required: required.map((r) => ({ capability: r.required, status: r.status, reason: r.reason })),
      }),
    };
  });
  const count = (status: ControlStatus) => controls.filter((c) => c.status === status).length;
  const counts = {
    pass: count('pass'),
    fail: count('fail'),
    notApplicable: count('not_applicable'),
    notAssessed: count('not_assessed'),
  };
  return {
    framework: draft.framework,
    name: draft.name,
    version: draft.version,
    status: counts.fail > 0 ? 'fail' : counts.notAssessed > 0 ? 'not_assessed' : 'pass',
    counts,
    controls,
    notCovered: draft.notCovered,
  };
}

/** One finding per place a rule fired, listing every control it fails across frameworks. */
function findingsOf(
  drafts: Map<string, Draft>,
  outcomes: Map<string, Outcome>,
  customRules: CustomRulesFile['rules'],
): Finding[] {
  const bySource = new Map<string, { severity: Severity; controls: string[] }>();
  for (const draft of drafts.values()) {
    for (const [controlId, control] of draft.controls) {
      for (const rule of control.rules) {
        const entry = bySource.get(rule.source) ?? { severity: rule.severity, controls: [] };
        entry.severity = moreSevere(entry.severity, rule.severity);
        entry.controls.push(`${draft.framework} ${controlId}`);
        bySource.set(rule.source, entry);
      }
    }
  }
  const findings: Finding[] = [];
  for (const [source, outcome] of outcomes) {
    if ('required' in outcome) {
      if (outcome.status !== 'fail') continue;
      const entry = bySource.get(source)!;
      const frameworks = [...new Set(entry.controls.map((c) => c.split(' ')[0]))].join(', ');
      findings.push(
        finding({
          ruleId: `compliance/requires-${outcome.required}`,
          tool: 'compliance',
          category: 'security',
          severity: entry.severity,
          message: `${frameworks} ${outcome.reason}`,
          remediation: `Implement ${CAPABILITY_TITLES[outcome.required]}: ${DETECTORS[outcome.required].looksFor}.`,
          controls: [...new Set(entry.controls)],
        }),
      );
      continue;
    }
    if (!('hits' in outcome)) continue;
    const [kind, id] = source.split(':') as ['check' | 'custom', string];
    const check = kind === 'check' ? CHECKS.get(id) : undefined;
    const custom = kind === 'custom' ? customRules.find((r) => r.id === id) : undefined;
    const entry = bySource.get(source)!;
    for (const hit of outcome.hits) {
      findings.push(
        finding({
          ruleId: check ? `compliance/${check.id}` : `compliance/custom/${id}`,
          tool: 'compliance',
          category: 'security',
          severity: entry.severity,
          message: `${check?.title ?? custom?.title}: ${hit.message}`,
          location: { path: hit.path, line: hit.line, ...(hit.column && { column: hit.column }) },
          cwe: check?.cwe,
          remediation: check?.remediation ?? custom?.remediation,
          controls: [...new Set(entry.controls)],
        }),
      );
    }
  }
  return findings;
}

function customRulesStatus(options: ComplianceOptions, count: number): CustomRulesStatus {
  if (options.customRulesErrors?.length) return { status: 'invalid', count: 0, errors: options.customRulesErrors };
  return options.customRules ? { status: 'loaded', count, errors: [] } : { status: 'none', count: 0, errors: [] };
}
