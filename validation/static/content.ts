import type { Finding, NotAssessedFile } from '../../contracts/validation';
import { finding } from '../findings';
import type { Project } from '../project';

/**
 * The content policy over the files as they ship: control characters in text files (a NUL hid a whole
 * file from every layer once), and clashes between task outputs that cannot be unpacked side by side.
 * Both are high findings that fail the verdict (validation/scoring.ts `blocksRelease`).
 */
export function contentFindings(project: Project): Finding[] {
  const findings: Finding[] = [];
  for (const hit of project.controlCharacters ?? []) {
    const nul = hit.characters.includes('U+0000');
    const control = hit.characters.some((c) => c < 'U+0020' || (c >= 'U+007F' && c <= 'U+009F'));
    findings.push(
      finding({
        ruleId: nul ? 'content/nul-byte' : control ? 'content/control-character' : 'content/hidden-character',
        tool: 'content',
        category: 'security',
        severity: 'high',
        message:
          `${hit.path} contains ${hit.count} ${control ? 'control' : 'bidirectional or invisible'} character(s) (${hit.characters.join(', ')}) in a text file` +
          (nul ? '; it was analysed with the NUL bytes blanked, and ships as it is' : ''),
        location: { path: hit.path, line: hit.line, column: hit.column },
        cwe: ['CWE-150', 'CWE-451'],
        remediation:
          'Remove the control characters: text files may hold only printable characters, tab, newline and CR.',
      }),
    );
  }
  for (const clash of project.pathConflicts ?? []) {
    const [first, second] = clash.paths;
    const [firstTask, secondTask] = clash.tasks;
    findings.push(
      finding({
        ruleId: 'content/path-conflict',
        tool: 'content',
        category: 'security',
        severity: 'high',
        message:
          `Task ${secondTask}'s ${JSON.stringify(second)} clashes with task ${firstTask}'s ${JSON.stringify(first)}: ${clash.reason}` +
          (clash.dropped ? `; ${JSON.stringify(clash.dropped)} is left out of the project and the capsule` : ''),
        location: { path: second, line: 1 },
        cwe: ['CWE-41', 'CWE-178'],
        remediation: 'Give each file one portable path: no case or Unicode twins, no file where a directory is needed.',
      }),
    );
  }
  return findings;
}

/** The files the project itself could not analyse (binary types, oversized), as report entries. */
export const unassessedFiles = (project: Project): NotAssessedFile[] =>
  (project.unassessed ?? []).map(({ path, reason }) => ({ path, tool: 'content', reason }));
