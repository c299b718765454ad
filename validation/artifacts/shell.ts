import { CommandAnalyser } from './commands';
import { artifactFinding, emptyReview, notAssessed, type ArtifactRule, type FileReview } from './rule';
import { runShellcheck, SHELLCHECK_DIALECTS } from './shellcheck';

const SHELL_NAMES = new Set(['sh', 'bash', 'dash', 'ksh', 'mksh', 'zsh', 'ash', 'fish']);
const EXTENSIONS: Record<string, string> = { sh: 'sh', bash: 'bash', dash: 'dash', ksh: 'ksh', zsh: 'zsh' };

export const SUPPRESSION: ArtifactRule = {
  id: 'suppression',
  severity: 'medium',
  category: 'quality',
  remediation: 'Fix what the check reports instead of silencing it; generated code may not switch checks off.',
};

/** The interpreter a `#!` line names (`#!/bin/bash`, `#!/usr/bin/env -S bash -e`). */
export function shebangInterpreter(content: string): string | undefined {
  if (!content.startsWith('#!')) return undefined;
  const end = content.indexOf('\n');
  const words = content
    .slice(2, end === -1 ? Math.min(content.length, 256) : Math.min(end, 256))
    .trim()
    .split(/\s+/);
  const name = (word: string | undefined) => word?.slice(word.lastIndexOf('/') + 1);
  if (name(words[0]) !== 'env') return name(words[0]);
  return name(words.slice(1).find((word) => !word.startsWith('-')));
}

/** The shell dialect of a script (by its `#!` line, else its extension), or undefined for other files. */
export function shellDialect(path: string, content: string): string | undefined {
  const interpreter = shebangInterpreter(content);
  if (interpreter && SHELL_NAMES.has(interpreter)) return interpreter;
  if (interpreter) return undefined;
  const extension = path.slice(path.lastIndexOf('.') + 1);
  return path.includes('.') ? EXTENSIONS[extension] : undefined;
}

/** Logical lines: backslash-continued lines joined, each with the line it starts on. */
export function logicalLines(content: string): { text: string; line: number }[] {
  const result: { text: string; line: number }[] = [];
  let current: string[] = [];
  let startLine = 1;
  content.split('\n').forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (current.length === 0) startLine = index + 1;
    if (line.endsWith('\\')) current.push(line.slice(0, -1));
    else {
      current.push(line);
      result.push({ text: current.join(' '), line: startLine });
      current = [];
    }
  });
  if (current.length) result.push({ text: current.join(' '), line: startLine });
  return result;
}

const isDirective = (line: string) => /^\s*#\s*shellcheck\s/.test(line);

/**
 * A shell script: our rules (download-and-execute, TLS off, world-writable modes, writes to /etc), every
 * `# shellcheck` directive as a finding, and shellcheck itself with those directives neutralised.
 */
export function reviewShell(path: string, content: string, dialect: string, shellcheck: string | null): FileReview {
  const review = emptyReview();
  const analyser = new CommandAnalyser();
  for (const { text, line } of logicalLines(content)) {
    if (isDirective(text))
      review.findings.push(
        artifactFinding(
          SUPPRESSION,
          path,
          line,
          `a "# shellcheck" directive in generated code: ${text.trim().slice(0, 120)}`,
        ),
      );
    if (text.trimStart().startsWith('#')) continue;
    for (const hit of analyser.line(text)) review.findings.push(artifactFinding(hit.rule, path, line, hit.message));
  }
  if (!shellcheck) {
    review.notAssessed.push(notAssessed(path, 'shellcheck is not installed: the script was checked by our rules only'));
    return review;
  }
  if (!SHELLCHECK_DIALECTS.has(dialect)) {
    review.notAssessed.push(notAssessed(path, `shellcheck does not support ${dialect}: our rules only`));
    return review;
  }
  const neutralised = content
    .split('\n')
    .map((line) => (isDirective(line) ? '#' : line))
    .join('\n');
  const run = runShellcheck(shellcheck, path, neutralised, dialect);
  if (run.status === 'not_assessed') {
    review.notAssessed.push(notAssessed(path, run.reason));
    return review;
  }
  review.findings.push(...run.findings);
  if (run.parseError)
    review.notAssessed.push(notAssessed(path, `shellcheck could not parse the script (${run.parseError})`));
  return review;
}
