import type { Finding, Severity } from '../../../contracts/validation';
import { finding } from '../../findings';
import type { Project } from '../../project';
import { findCleartext, findUnsafeMerges } from './patterns';
import { buildAnalysisProgram, lineOf } from './program';
import { findSinks } from './sinks';
import { TaintEngine, type TaintClass } from './taint';

interface DataflowRule {
  /** The finding's category in the labelled corpus (bench/validation-corpus.ts). */
  category: string;
  title: string;
  severity: Severity;
  cwe: string[];
  remediation: string;
  /** What the value reaches without, in the finding's message. */
  without: string;
}

/** The data-flow rules: `dataflow/<id>`, one per vulnerability class. */
export const DATAFLOW_RULES = {
  'path-traversal': {
    category: 'path-traversal',
    title: 'File path built from input',
    severity: 'high',
    cwe: ['CWE-22'],
    remediation:
      'Resolve the path (path.resolve) against a fixed root and refuse it unless it stays inside the root (startsWith(root + path.sep)); or keep only path.basename of the input.',
    without: 'normalisation and a containment check',
  },
  'open-redirect': {
    category: 'open-redirect',
    title: 'Redirect to a URL from input',
    severity: 'medium',
    cwe: ['CWE-601'],
    remediation:
      'Redirect only to relative paths that start with a single "/" or to hosts on an allow-list; never to a URL taken as is from the request.',
    without: 'an allow-list or a same-site check',
  },
  xss: {
    category: 'xss',
    title: 'Input written into HTML without escaping',
    severity: 'high',
    cwe: ['CWE-79'],
    remediation:
      'Escape values for HTML (a template engine with auto-escaping, or an escapeHtml function) or send them as JSON / text/plain.',
    without: 'HTML escaping',
  },
  ssrf: {
    category: 'ssrf',
    title: 'Outbound request to a URL from input',
    severity: 'high',
    cwe: ['CWE-918'],
    remediation:
      'Build outbound URLs from a fixed origin, or check the parsed hostname against an allow-list (and refuse private addresses) before the request.',
    without: 'a host allow-list',
  },
  'code-injection': {
    category: 'code-injection',
    title: 'Code built from input',
    severity: 'critical',
    cwe: ['CWE-94', 'CWE-95'],
    remediation: 'Never evaluate input as code: parse it as data (JSON.parse) or map it to fixed functions.',
    without: 'any restriction',
  },
  'template-injection': {
    category: 'template-injection',
    title: 'Template compiled from input',
    severity: 'critical',
    cwe: ['CWE-1336'],
    remediation: 'Compile templates from files in the project only; pass input as data to render.',
    without: 'any restriction',
  },
  'command-injection': {
    category: 'command-injection',
    title: 'Shell command built from input',
    severity: 'critical',
    cwe: ['CWE-78'],
    remediation: 'Use execFile/spawn with a fixed program, an argument array and no shell; validate arguments.',
    without: 'an allow-list',
  },
  'sql-injection': {
    category: 'sql-injection',
    title: 'SQL built from input',
    severity: 'critical',
    cwe: ['CWE-89'],
    remediation: 'Pass values as bound parameters ($1, ?) or use a tagged sql template.',
    without: 'parameters',
  },
  'prototype-pollution': {
    category: 'prototype-pollution',
    title: 'Prototype pollution',
    severity: 'high',
    cwe: ['CWE-1321'],
    remediation:
      'Skip the keys __proto__, constructor and prototype when copying or setting by path (or use Map / Object.create(null) targets); keep lodash at 4.17.21 or later.',
    without: 'blocking __proto__, constructor and prototype',
  },
  'cleartext-transmission': {
    category: 'cleartext-transmission',
    title: 'Request sent without TLS',
    severity: 'high',
    cwe: ['CWE-319'],
    remediation: 'Use https:// (the https module, protocol "https:", wss://) for every remote endpoint.',
    without: 'TLS',
  },
} satisfies Record<string, DataflowRule>;

export type DataflowRuleId = keyof typeof DATAFLOW_RULES;

const RULE_OF_CLASS: Record<TaintClass, DataflowRuleId> = {
  path: 'path-traversal',
  redirect: 'open-redirect',
  xss: 'xss',
  ssrf: 'ssrf',
  code: 'code-injection',
  template: 'template-injection',
  command: 'command-injection',
  sql: 'sql-injection',
  proto: 'prototype-pollution',
};

// Releases that fixed prototype pollution in merge/set helpers; earlier ones (or an unknown version) are reported.
const FIXED_RELEASES: Record<string, string> = {
  lodash: '4.17.21',
  'lodash.merge': '4.6.2',
  'lodash.mergewith': '4.6.2',
  'lodash.defaultsdeep': '4.6.1',
  'lodash.set': '99.0.0', // never fixed
  'lodash.setwith': '99.0.0',
  'deep-extend': '0.5.1',
  'mixin-deep': '2.0.1',
  'set-value': '4.0.1',
  'dot-prop': '5.1.1',
  merge: '2.1.1',
  jquery: '3.4.0',
  'defaults-deep': '0.2.4',
  'merge-deep': '3.0.3',
};

const versionNumbers = (version: string) => (/(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);

/** `fixed`, `vulnerable <range>` or `unknown` for a library as the project's package.json declares it. */
function libraryStatus(
  project: Project,
  module: string,
): { status: 'fixed' | 'vulnerable' | 'unknown'; range?: string } {
  const fixed = FIXED_RELEASES[module];
  for (const file of project.files.filter((f) => /(^|\/)package\.json$/.test(f.path))) {
    let manifest: Record<string, Record<string, string> | undefined>;
    try {
      manifest = JSON.parse(file.content) as typeof manifest;
    } catch {
      continue;
    }
    const range = manifest.dependencies?.[module] ?? manifest.devDependencies?.[module];
    if (typeof range !== 'string') continue;
    const declared = versionNumbers(range);
    if (!fixed || declared.length < 3) return { status: 'unknown', range };
    const target = versionNumbers(fixed);
    for (let i = 0; i < 3; i++) {
      if (declared[i]! > target[i]!) return { status: 'fixed', range };
      if (declared[i]! < target[i]!) return { status: 'vulnerable', range };
    }
    return { status: 'fixed', range };
  }
  return { status: 'unknown' };
}

export interface DataflowResult {
  filesAnalysed: number;
  findings: Finding[];
}

/** Data-flow (taint) and pattern analysis of the project's JavaScript and TypeScript files. */
export function analyseDataflow(project: Project): DataflowResult {
  const program = buildAnalysisProgram(project);
  const engine = new TaintEngine(program);
  engine.run();
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add = (ruleId: DataflowRuleId, path: string, line: number, message: string, severity?: Severity) => {
    const key = `${ruleId}:${path}:${line}`;
    if (seen.has(key)) return;
    seen.add(key);
    const rule: DataflowRule = DATAFLOW_RULES[ruleId];
    findings.push(
      finding({
        ruleId: `dataflow/${ruleId}`,
        tool: 'dataflow',
        category: 'security',
        severity:
          severity ?? (ruleId === 'prototype-pollution' && /version unknown/.test(message) ? 'medium' : rule.severity),
        message,
        location: { path, line },
        cwe: rule.cwe,
        remediation: rule.remediation,
      }),
    );
  };
  for (const unit of program.units) {
    for (const hit of findSinks(engine, unit)) {
      const ruleId = RULE_OF_CLASS[hit.kind];
      const rule: DataflowRule = DATAFLOW_RULES[ruleId];
      if (hit.taint.unknown) {
        add(
          ruleId,
          unit.file.path,
          lineOf(hit.node),
          `${rule.title}: ${hit.sink} runs code built from \`${hit.taint.origin}\`, which is not a constant`,
          'high',
        );
        continue;
      }
      const what = hit.taint.stored ? 'stored data' : 'input';
      let note = '';
      const library = / from (\S+)$/.exec(hit.sink)?.[1];
      if (hit.kind === 'proto' && library) {
        const { status, range } = libraryStatus(project, library);
        if (status === 'fixed') continue;
        note =
          status === 'vulnerable'
            ? ` (${library} ${range} predates the fix)`
            : ` (${library} version unknown; releases before ${FIXED_RELEASES[library] ?? 'the fix'} are affected)`;
      }
      add(
        ruleId,
        unit.file.path,
        lineOf(hit.node),
        `${rule.title}: ${what} from ${hit.taint.origin} reaches ${hit.sink} without ${rule.without}${note}`,
      );
    }
    for (const hit of findUnsafeMerges(engine, unit))
      add('prototype-pollution', unit.file.path, lineOf(hit.node), hit.message);
    for (const hit of findCleartext(engine, unit))
      add('cleartext-transmission', unit.file.path, lineOf(hit.node), hit.message);
  }
  return { filesAnalysed: program.units.length, findings };
}
