import type { Log, ReportingDescriptor, Result, Run } from 'sarif';
import type { RequirementCoverage } from '../contracts/requirements';
import type {
  CheckResult,
  ComplianceReport,
  DynamicReport,
  Finding,
  Severity,
  StaticReport,
  ToolId,
} from '../contracts/validation';
import { CHECKS } from './compliance/checks';
import { capFindings, fitToSize, REPORT_LIMITS, type ReportLimits } from './report';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

/** GitHub code scanning's bands: ≥ 9 critical, 7–8.9 high, 4–6.9 medium, < 4 low. */
export const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

const LEVEL: Record<Severity, Result.level> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

const DRIVERS: Record<ToolId, { name: string; informationUri: string }> = {
  typescript: { name: 'TypeScript compiler', informationUri: 'https://www.typescriptlang.org/' },
  eslint: { name: 'ESLint', informationUri: 'https://eslint.org/' },
  secrets: {
    name: 'secretlint + QuantumLayer secret detectors',
    informationUri: 'https://github.com/secretlint/secretlint',
  },
  semgrep: { name: 'Semgrep (QuantumLayer rules)', informationUri: 'https://semgrep.dev/' },
  dataflow: {
    name: 'QuantumLayer data-flow analysis',
    informationUri: 'https://quantumlayer.dev/docs/validation#data-flow',
  },
  dependencies: {
    name: 'QuantumLayer dependency policy',
    informationUri: 'https://quantumlayer.dev/docs/validation#dependency-policy',
  },
  llm: { name: 'QuantumLayer LLM review', informationUri: 'https://quantumlayer.dev/docs/validation#llm-review' },
  compliance: {
    name: 'QuantumLayer compliance rule packs',
    informationUri: 'https://quantumlayer.dev/docs/validation#compliance',
  },
  sandbox: { name: 'QuantumLayer sandbox (build and tests)', informationUri: 'https://quantumlayer.dev/docs/sandbox' },
  coverage: {
    name: 'QuantumLayer requirement coverage',
    informationUri: 'https://quantumlayer.dev/docs/validation#requirement-coverage',
  },
  artifacts: {
    name: 'QuantumLayer artefact review (package.json, shell with shellcheck, Dockerfile, Kubernetes/Compose, CI)',
    informationUri: 'https://quantumlayer.dev/docs/validation#non-code-artefacts',
  },
  content: {
    name: 'QuantumLayer content policy (control characters, binary files, path conflicts)',
    informationUri: 'https://quantumlayer.dev/docs/validation#content-policy',
  },
  suppressions: {
    name: 'QuantumLayer suppression directives (@ts-nocheck, eslint-disable, nosemgrep, …)',
    informationUri: 'https://quantumlayer.dev/docs/validation#suppressions',
  },
};

function helpUri(ruleId: string): string | undefined {
  const eslint = /^eslint\/(?!security\/|parse-error)(.+)$/.exec(ruleId);
  if (eslint) return `https://eslint.org/docs/latest/rules/${eslint[1]}`;
  const plugin = /^eslint\/security\/(.+)$/.exec(ruleId);
  if (plugin) return `https://github.com/eslint-community/eslint-plugin-security/blob/main/docs/rules/${plugin[1]}.md`;
  return undefined;
}

function ruleFor(ruleId: string, items: Finding[]): ReportingDescriptor {
  const first = items[0]!;
  const severity = items.reduce<Severity>(
    (worst, f) => (LEVEL_RANK[f.severity] < LEVEL_RANK[worst] ? f.severity : worst),
    first.severity,
  );
  const check = first.tool === 'compliance' ? CHECKS.get(ruleId.replace(/^compliance\//, '')) : undefined;
  const title = check?.title ?? first.message.split(':')[0]!.slice(0, 120);
  const controls = [...new Set(items.flatMap((f) => f.controls ?? []))];
  const uri = helpUri(ruleId);
  return {
    id: ruleId,
    name: ruleId.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : '')),
    shortDescription: { text: title },
    fullDescription: {
      text: check
        ? `${check.title}. Controls: ${controls.join(', ') || 'none selected'}.`
        : (first.remediation ?? title),
    },
    help: { text: first.remediation ?? 'Review and fix the finding.' },
    ...(uri && { helpUri: uri }),
    defaultConfiguration: { level: LEVEL[severity] },
    properties: {
      tags: [first.category, ...(first.cwe ?? []), ...controls],
      precision: first.tool === 'llm' ? 'medium' : 'high',
      ...(first.category === 'security' && { 'security-severity': SECURITY_SEVERITY[severity] }),
      'qlp-severity': severity,
    },
  };
}

const LEVEL_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

function runFor(tool: ToolId, findings: Finding[], check: Pick<CheckResult, 'status' | 'reason' | 'version'>): Run {
  const byRule = new Map<string, Finding[]>();
  for (const item of findings) byRule.set(item.ruleId, [...(byRule.get(item.ruleId) ?? []), item]);
  const ruleIds = [...byRule.keys()].sort();
  const rules = ruleIds.map((id) => ruleFor(id, byRule.get(id)!));
  const results: Result[] = findings.map((item) => ({
    ruleId: item.ruleId,
    ruleIndex: ruleIds.indexOf(item.ruleId),
    level: LEVEL[item.severity],
    message: { text: item.message },
    ...(item.location && {
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: encodeURI(item.location.path) },
            region: {
              startLine: item.location.line,
              ...(item.location.column && { startColumn: item.location.column }),
            },
          },
        },
      ],
    }),
    partialFingerprints: { 'qlpFinding/v1': item.fingerprint },
    properties: { severity: item.severity, ...(item.controls && { controls: item.controls }) },
  }));
  const notice = check.status === 'not_assessed' || check.status === 'skipped' || check.reason;
  return {
    tool: { driver: { ...DRIVERS[tool], ...(check.version && { version: check.version }), rules } },
    invocations: [
      {
        // `not_assessed`: the tool did not look at the code; a consumer must not read the empty result as clean.
        executionSuccessful: check.status !== 'not_assessed',
        ...(notice && {
          toolExecutionNotifications: [
            {
              level: check.status === 'not_assessed' ? 'error' : 'note',
              message: { text: `${check.status}${check.reason ? `: ${check.reason}` : ''}` },
            },
          ],
        }),
      },
    ],
    results,
    properties: { status: check.status },
  };
}

export interface SarifInput {
  static?: StaticReport;
  compliance?: ComplianceReport;
  dynamic?: DynamicReport;
  /** Requirement coverage: the uncovered requirements as findings, and the table's counts. */
  coverage?: { findings: Finding[]; requirements: RequirementCoverage[] };
  notAssessed?: { layer: 'static' | 'compliance' | 'dynamic'; reason: string }[];
}

/** SARIF is wordier than the JSON report: the same caps, a larger size budget. */
export const SARIF_LIMITS: ReportLimits = { ...REPORT_LIMITS, maxBytes: 4 * 1024 * 1024 };
const MAX_FILE_NOTICES = 200;

/**
 * SARIF 2.1.0: one run per tool, including tools that could not run (executionSuccessful false). Results
 * are capped per rule, per file and in size like the JSON report; each run's `properties.truncated` says
 * how many of its results were cut, per rule.
 */
export function toSarif(input: SarifInput, limits: ReportLimits = SARIF_LIMITS): Log {
  const everything = [
    ...(input.static?.findings ?? []),
    ...(input.compliance?.findings ?? []),
    ...(input.dynamic?.findings ?? []),
    ...(input.coverage?.findings ?? []),
  ];
  const { kept, cut } = capFindings(everything, limits);
  return fitToSize(kept, limits.maxBytes, (listed, dropped) => sarifLog(input, listed, [...cut, ...dropped])).value;
}

const findingKey = (item: Finding) => `${item.tool}\u0000${item.fingerprint}`;

function sarifLog(input: SarifInput, listed: Finding[], cut: Finding[]): Log {
  const shown = new Map(listed.map((item) => [findingKey(item), item]));
  const pick = (findings: Finding[]) => findings.flatMap((item) => shown.get(findingKey(item)) ?? []);
  const withCuts = (run: Run, tool: ToolId): Run => {
    const mine = cut.filter((item) => item.tool === tool);
    if (!mine.length) return run;
    const byRule = new Map<string, number>();
    for (const item of mine) byRule.set(item.ruleId, (byRule.get(item.ruleId) ?? 0) + 1);
    run.properties = { ...run.properties, truncated: { resultsCut: mine.length, byRule: Object.fromEntries(byRule) } };
    return run;
  };
  const runs: Run[] = [];
  const runsByTool = new Map<ToolId, Run>();
  for (const check of input.static?.checks ?? []) {
    const run = withCuts(
      runFor(check.tool, pick(input.static!.findings.filter((f) => f.tool === check.tool)), check),
      check.tool,
    );
    runsByTool.set(check.tool, run);
    runs.push(run);
  }
  for (const file of (input.static?.notAssessedFiles ?? []).slice(0, MAX_FILE_NOTICES)) {
    let run = runsByTool.get(file.tool);
    if (!run) {
      run = runFor(file.tool, [], { status: 'not_assessed', reason: 'files not assessed' });
      runsByTool.set(file.tool, run);
      runs.push(run);
    }
    const invocation = run.invocations![0]!;
    // A file nobody judged is an error notice on the run, never an absent (clean-looking) result.
    invocation.toolExecutionNotifications = [
      ...(invocation.toolExecutionNotifications ?? []),
      {
        level: 'error',
        message: { text: `not assessed: ${file.path}: ${file.reason}` },
        locations: [{ physicalLocation: { artifactLocation: { uri: encodeURI(file.path) } } }],
      },
    ];
  }
  if (input.compliance) {
    const status = input.compliance.checkErrors.length
      ? 'not_assessed'
      : input.compliance.findings.length
        ? 'failed'
        : 'passed';
    const reason = input.compliance.checkErrors.map((e) => `${e.check}: ${e.reason}`).join('; ') || undefined;
    const run = withCuts(runFor('compliance', pick(input.compliance.findings), { status, reason }), 'compliance');
    run.properties = {
      ...run.properties,
      frameworks: input.compliance.frameworks.map((fw) => ({
        framework: fw.framework,
        status: fw.status,
        ...fw.counts,
      })),
    };
    runs.push(run);
  }
  if (input.dynamic) {
    const status = input.dynamic.outcome === 'passed' ? 'passed' : 'failed';
    const run = withCuts(runFor('sandbox', pick(input.dynamic.findings), { status }), 'sandbox');
    const { driver, tests, limitHits, durationMs } = input.dynamic.run;
    run.properties = { ...run.properties, driver, tests: { ...tests, failures: undefined }, limitHits, durationMs };
    runs.push(run);
  }
  if (input.coverage) {
    const { findings, requirements } = input.coverage;
    const run = withCuts(
      runFor('coverage', pick(findings), { status: findings.length ? 'failed' : 'passed' }),
      'coverage',
    );
    const count = (status: string) => requirements.filter((r) => r.status === status).length;
    run.properties = {
      ...run.properties,
      requirements: {
        covered: count('covered'),
        notCovered: count('not_covered'),
        notVerifiable: count('not_verifiable'),
      },
    };
    runs.push(run);
  }
  for (const missing of input.notAssessed ?? []) {
    const tool: ToolId =
      missing.layer === 'compliance' ? 'compliance' : missing.layer === 'dynamic' ? 'sandbox' : 'typescript';
    const run = runFor(tool, [], {
      status: 'not_assessed',
      reason: `${missing.layer} layer not assessed: ${missing.reason}`,
    });
    if (missing.layer === 'static') run.tool.driver.name = 'QuantumLayer static review';
    runs.push(run);
  }
  return { $schema: SARIF_SCHEMA, version: '2.1.0', runs };
}
