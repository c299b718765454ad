import type { Finding, Severity } from '../../../contracts/validation';
import { finding } from '../../findings';
import type { Project } from '../../project';
import { findCleartext, findUnsafeMerges } from './patterns';
import { buildAnalysisProgram, lineOf } from './program';
import { findSinks } from './sinks';
import { csrfFacts, findCsrf } from './csrf';
import { findErrorDisclosure } from './error-disclosure';
import { findInputSinks } from './input-sinks';
import { findRedos } from './redos';
import { ARCHIVE_ORIGIN, TaintEngine, type TaintClass } from './taint';
import { findXxe } from './xxe';

import { DATAFLOW_RULES, type DataflowRule, type DataflowRuleId } from './rules';
import { FIXED_RELEASES, libraryStatus } from './versions';

export { DATAFLOW_RULES, type DataflowRule, type DataflowRuleId } from './rules';

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
  log: 'log-injection',
  regex: 'redos',
  mass: 'mass-assignment',
  deser: 'unsafe-deserialization',
};

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
  const csrf = csrfFacts(engine, program.units);
  for (const unit of program.units) {
    for (const hit of findSinks(engine, unit)) {
      const ruleId =
        hit.kind === 'path' && hit.taint.origin.startsWith(ARCHIVE_ORIGIN) ? 'zip-slip' : RULE_OF_CLASS[hit.kind];
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
      const what = hit.taint.stored
        ? 'stored data from '
        : hit.taint.origin.startsWith(ARCHIVE_ORIGIN)
          ? ''
          : 'input from ';
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
        `${rule.title}: ${what}${hit.taint.origin} reaches ${hit.sink} without ${rule.without}${note}`,
      );
    }
    for (const hit of findUnsafeMerges(engine, unit))
      add('prototype-pollution', unit.file.path, lineOf(hit.node), hit.message);
    for (const hit of findCleartext(engine, unit))
      add('cleartext-transmission', unit.file.path, lineOf(hit.node), hit.message);
    const more = [
      ...findInputSinks(engine, unit, project),
      ...findRedos(engine, unit),
      ...findXxe(engine, unit),
      ...findErrorDisclosure(engine, unit),
      ...findCsrf(engine, unit, csrf),
    ];
    for (const hit of more) add(hit.rule, unit.file.path, lineOf(hit.node), hit.message, hit.severity);
  }
  return { filesAnalysed: program.units.length, findings };
}
