import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Finding, Severity } from '../../contracts/validation';
import { finding } from '../findings';

/** shellcheck's levels as our severities: its errors are real bugs, its style notes cost nothing. */
const LEVELS: Record<string, Severity> = { error: 'medium', warning: 'low', info: 'info', style: 'info' };
/** The dialects shellcheck understands; others (zsh, fish) are not assessed by it. */
export const SHELLCHECK_DIALECTS = new Set(['sh', 'bash', 'dash', 'ksh']);
const TIMEOUT_MS = 15_000;

export type ShellcheckRun =
  { status: 'ran'; findings: Finding[]; parseError?: string } | { status: 'not_assessed'; reason: string };

/** `SHELLCHECK_PATH`, else `shellcheck` on PATH; `null` when there is none. */
export function findShellcheck(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.SHELLCHECK_PATH) return env.SHELLCHECK_PATH;
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, 'shellcheck'), constants.X_OK);
      return join(dir, 'shellcheck');
    } catch {
      // not here
    }
  }
  return null;
}

const versions = new Map<string, string>();

export function shellcheckVersion(executable: string): string {
  const known = versions.get(executable);
  if (known) return known;
  const run = spawnSync(executable, ['--version'], { encoding: 'utf8', timeout: TIMEOUT_MS, env: minimalEnv() });
  const version = /version:\s*(\S+)/.exec(run.stdout ?? '')?.[1] ?? 'unknown';
  versions.set(executable, version);
  return version;
}

// The worker's secrets are not shellcheck's business.
const minimalEnv = () => ({ PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: tmpdir() });

interface Comment {
  line: number;
  column: number;
  level: string;
  code: number;
  message: string;
}

const isComment = (value: unknown): value is Comment => {
  const item = value as Partial<Comment> | null;
  return (
    typeof item === 'object' &&
    item !== null &&
    typeof item.line === 'number' &&
    typeof item.code === 'number' &&
    typeof item.level === 'string' &&
    typeof item.message === 'string'
  );
};

/**
 * Runs shellcheck on one script through stdin (never from disk, never the project's .shellcheckrc),
 * synchronously: the child is always reaped before the compute thread moves on.
 */
export function runShellcheck(executable: string, path: string, content: string, dialect: string): ShellcheckRun {
  const run = spawnSync(executable, ['--format=json', '--norc', `--shell=${dialect}`, '-'], {
    input: content,
    encoding: 'utf8',
    timeout: TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 32 * 1024 * 1024,
    cwd: tmpdir(),
    env: minimalEnv(),
  });
  if (run.error) return { status: 'not_assessed', reason: `shellcheck did not run: ${run.error.message}` };
  if (run.status !== 0 && run.status !== 1)
    return { status: 'not_assessed', reason: `shellcheck failed (exit ${run.status}): ${run.stderr.slice(0, 200)}` };
  let comments: unknown;
  try {
    comments = JSON.parse(run.stdout);
  } catch {
    return { status: 'not_assessed', reason: 'shellcheck printed no JSON' };
  }
  if (!Array.isArray(comments) || !comments.every(isComment))
    return { status: 'not_assessed', reason: 'shellcheck printed JSON of an unexpected shape' };
  // SC1xxx errors: the parser gave up, so the rest of the script was not checked.
  const parseError = comments.find((c) => c.level === 'error' && c.code < 2000);
  return {
    status: 'ran',
    findings: comments.map((c) =>
      finding({
        ruleId: `shellcheck/SC${c.code}`,
        tool: 'artifacts',
        category: 'quality',
        severity: LEVELS[c.level] ?? 'low',
        message: `SC${c.code}: ${c.message}`,
        location: { path, line: Math.max(1, c.line), ...(c.column >= 1 && { column: c.column }) },
        remediation: `See https://www.shellcheck.net/wiki/SC${c.code}`,
      }),
    ),
    ...(parseError && { parseError: `line ${parseError.line}: ${parseError.message}` }),
  };
}
