import { posix } from 'node:path';
import type { Finding } from '../../contracts/validation';
import { finding } from '../findings';
import { isCodeFile, isTextType, matchPieces, positionAt, scannableFiles, type Project } from '../project';

/**
 * Directives that switch a check off, in one list: each is reported as a finding and ignored by our
 * checks (the type-check sees them neutralised, ESLint runs without inline config, semgrep with
 * --disable-nosem and no project ignore files). A tenant policy may one day allow some by id.
 */
export const SUPPRESSION_DIRECTIVES = [
  { id: 'ts-nocheck', text: '@ts-nocheck', category: 'quality', turnsOff: 'the type-check of the whole file' },
  { id: 'ts-ignore', text: '@ts-ignore', category: 'quality', turnsOff: 'type errors on the next line' },
  { id: 'ts-expect-error', text: '@ts-expect-error', category: 'quality', turnsOff: 'type errors on the next line' },
  { id: 'eslint-disable', text: 'eslint-disable', category: 'security', turnsOff: 'lint and security rules' },
  { id: 'eslint-config', text: 'eslint ', category: 'security', turnsOff: 'lint rules (inline configuration)' },
  { id: 'tslint-disable', text: 'tslint:disable', category: 'quality', turnsOff: 'lint rules' },
  { id: 'jshint-ignore', text: 'jshint ignore', category: 'quality', turnsOff: 'lint rules' },
  { id: 'biome-ignore', text: 'biome-ignore', category: 'quality', turnsOff: 'lint rules' },
  { id: 'oxlint-disable', text: 'oxlint-disable', category: 'quality', turnsOff: 'lint rules' },
  { id: 'deno-lint-ignore', text: 'deno-lint-ignore', category: 'quality', turnsOff: 'lint rules' },
  { id: 'nosemgrep', text: 'nosemgrep', category: 'security', turnsOff: 'semgrep rules' },
  { id: 'nosec', text: 'nosec', category: 'security', turnsOff: 'security scanners' },
  { id: 'nosonar', text: 'nosonar', category: 'security', turnsOff: 'SonarQube rules' },
  { id: 'noqa', text: 'noqa', category: 'quality', turnsOff: 'lint rules' },
  { id: 'lgtm', text: 'lgtm[', category: 'security', turnsOff: 'CodeQL alerts' },
  { id: 'codeql', text: 'codeql[', category: 'security', turnsOff: 'CodeQL alerts' },
  { id: 'secretlint-disable', text: 'secretlint-disable', category: 'security', turnsOff: 'secret detection' },
  { id: 'gitleaks-allow', text: 'gitleaks:allow', category: 'security', turnsOff: 'secret detection' },
  { id: 'detect-secrets', text: 'pragma: allowlist', category: 'security', turnsOff: 'secret detection' },
  { id: 'istanbul-ignore', text: 'istanbul ignore', category: 'quality', turnsOff: 'coverage measurement' },
  { id: 'c8-ignore', text: 'c8 ignore', category: 'quality', turnsOff: 'coverage measurement' },
  { id: 'v8-ignore', text: 'v8 ignore', category: 'quality', turnsOff: 'coverage measurement' },
  { id: 'stryker-disable', text: 'stryker disable', category: 'quality', turnsOff: 'mutation testing' },
] as const;

export type SuppressionId = (typeof SUPPRESSION_DIRECTIVES)[number]['id'];

/** Ignore files of scanners: they hide whole paths from a tool. Ours never read them; they are reported. */
export const SUPPRESSION_FILES: Record<string, string> = {
  '.semgrepignore': 'semgrep',
  '.eslintignore': 'ESLint',
  '.secretlintignore': 'secretlint',
  '.gitleaksignore': 'gitleaks',
  '.trivyignore': 'trivy',
  '.snyk': 'snyk',
  '.nsprc': 'npm audit',
};

// Short words that occur inside identifiers: matched only as whole words.
const WHOLE_WORD = new Set<string>(['nosec', 'noqa', 'nosonar']);
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Literal alternatives only (no quantifiers): one pass, linear in the text. `eslint <rule>:` is inline config.
const DIRECTIVE = new RegExp(
  SUPPRESSION_DIRECTIVES.map((d) =>
    d.id === 'eslint-config'
      ? '/\\*\\s?eslint [\\w@/-]{1,80}\\s?:'
      : WHOLE_WORD.has(d.id)
        ? `\\b${escapeRegExp(d.text)}\\b`
        : escapeRegExp(d.text),
  ).join('|'),
  'gi',
);
const byText = (text: string) =>
  SUPPRESSION_DIRECTIVES.find((d) =>
    d.id === 'eslint-config' ? /eslint [\w@/-]+\s?:$/i.test(text) : d.text.toLowerCase() === text.toLowerCase(),
  );

// Where directives act: code, scripts and configuration. Prose (.md, .txt) may mention them harmlessly.
const PROSE = /\.(md|mdx|markdown|txt|rst|adoc)$/i;
const readsDirectives = (path: string) =>
  isCodeFile(path) || path.endsWith('.d.ts') || (isTextType(path) && !PROSE.test(path));

/** Every suppression directive and scanner ignore file in the project, as findings. */
export function suppressionFindings(project: Project): Finding[] {
  const findings: Finding[] = [];
  for (const file of scannableFiles(project)) {
    const tool = SUPPRESSION_FILES[posix.basename(file.path)];
    if (tool) {
      findings.push(
        finding({
          ruleId: 'suppressions/ignore-file',
          tool: 'suppressions',
          category: 'security',
          severity: 'medium',
          message: `${file.path} tells ${tool} to skip files; the review ignores it and checks every file`,
          location: { path: file.path, line: 1 },
          cwe: ['CWE-1164'],
          remediation: `Remove ${posix.basename(file.path)}: generated code may not exempt itself from review.`,
        }),
      );
      continue;
    }
    if (!readsDirectives(file.path)) continue;
    const seenLines = new Set<string>();
    for (const match of matchPieces(file.content, DIRECTIVE)) {
      const directive = byText(match[0].replace(/^\/\*\s?/, ''));
      if (!directive) continue;
      const { line, column } = positionAt(file.content, match.index);
      const key = `${directive.id}:${line}`;
      if (seenLines.has(key)) continue;
      seenLines.add(key);
      findings.push(
        finding({
          ruleId: `suppressions/${directive.id}`,
          tool: 'suppressions',
          category: directive.category,
          severity: 'medium',
          message: `${directive.text.trim()} in ${file.path} would turn off ${directive.turnsOff}; it is reported and ignored`,
          location: { path: file.path, line, column },
          cwe: ['CWE-1164'],
          remediation: 'Remove the directive and fix what it hides: generated code may not switch its checks off.',
        }),
      );
    }
  }
  return findings;
}

// TypeScript honours these in comments (any case for the pragma): the checker gets them with `-` → `_`.
const TS_DIRECTIVES = /@ts-(nocheck|ignore|expect-error)/gi;

/** The text the type-checker sees: TypeScript's own suppressions neutralised, every offset unchanged. */
export const withoutTypeScriptSuppressions = (text: string) =>
  text.replace(TS_DIRECTIVES, (directive) => `@ts_${directive.slice(4)}`);
