import { spawn } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { Finding, Severity } from '../../contracts/validation';
import { finding } from '../findings';
import { isCodeFile, isSafeProjectPath, scannableFiles, type Project } from '../project';
import { SUPPRESSION_FILES } from './suppressions';
import { redactSecrets } from '../redact';

/** The rules kept in this repository; resolved from the source tree, or next to compiled output. */
export function semgrepRulesPath(): string {
  const candidates = [
    resolve(__dirname, '../semgrep/rules.yml'),
    resolve(__dirname, '../../../validation/semgrep/rules.yml'),
  ];
  return candidates.find((path) => existsSync(path)) ?? candidates[0]!;
}

/** Finds an executable on a PATH string, as a shell would. */
export async function findExecutable(name: string, pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const SemgrepOutput = z.object({
  version: z.string().optional(),
  results: z.array(
    z.object({
      check_id: z.string(),
      path: z.string(),
      start: z.object({ line: z.number(), col: z.number() }),
      extra: z.object({
        message: z.string().optional(),
        severity: z.string().optional(),
        metadata: z.record(z.string(), z.unknown()).optional(),
      }),
    }),
  ),
  errors: z.array(
    z
      .object({
        message: z.string().optional(),
        level: z.string().optional(),
        path: z.string().optional(),
        type: z.unknown().optional(),
      })
      .loose(),
  ),
  paths: z
    .object({ scanned: z.array(z.string()).optional() })
    .loose()
    .optional(),
});

export type SemgrepRun =
  | {
      status: 'completed';
      version?: string;
      findings: Finding[];
      errors: string[];
      /** Files semgrep did not fully analyse (parse error, timeout, skipped): not assessed, never clean. */
      unassessed: { path: string; reason: string }[];
    }
  | { status: 'not_assessed'; reason: string };

export interface SemgrepOptions {
  /** Executable to use; by default `semgrep` on PATH. `null` means none (the caller knows it is absent). */
  executable?: string | null;
  rulesPath?: string;
  timeoutMs?: number;
}

const SEVERITIES = new Set(['critical', 'high', 'medium', 'low', 'info']);

/**
 * Runs semgrep offline with our rules on a temporary copy of the project; absent or failing semgrep is
 * `not_assessed`. The project cannot switch it off: `nosemgrep` comments are disabled, the project's
 * ignore files are not copied and an empty root `.semgrepignore` replaces semgrep's default ignore list
 * (which skips test/, dist/, build/, vendor/, *.min.js), and there is no file size limit of semgrep's own.
 */
export async function runSemgrep(project: Project, options: SemgrepOptions = {}): Promise<SemgrepRun> {
  const executable = options.executable === undefined ? await findExecutable('semgrep') : options.executable;
  if (!executable) return { status: 'not_assessed', reason: 'semgrep is not installed (not on PATH)' };
  const workDir = await mkdtemp(join(tmpdir(), 'qlp-semgrep-'));
  try {
    const written: string[] = [];
    // Where each file is in the scan folder → its project path (semgrep reads .mts/.cts only as `.ts`).
    const scanned = new Map<string, string>();
    for (const file of scannableFiles(project)) {
      if (!isSafeProjectPath(file.path) || basename(file.path) in SUPPRESSION_FILES) continue;
      const scanPath = /\.(mts|cts)$/.test(file.path) ? `${file.path}.ts` : file.path;
      await mkdir(dirname(join(workDir, 'project', scanPath)), { recursive: true });
      await writeFile(join(workDir, 'project', scanPath), file.content);
      written.push(file.path);
      scanned.set(scanPath, file.path);
    }
    const projectRelative = (path: string) => {
      const relativePath = path.replace(/^project\//, '');
      return scanned.get(relativePath) ?? relativePath;
    };
    await mkdir(join(workDir, 'project'), { recursive: true });
    await writeFile(join(workDir, 'project', '.semgrepignore'), '');
    const home = join(workDir, 'home');
    await mkdir(home);
    const args = ['scan', '--config', options.rulesPath ?? semgrepRulesPath(), '--metrics=off', '--json', '--quiet'];
    args.push('--disable-version-check', '--timeout', '30', '--no-git-ignore', '--disable-nosem');
    args.push('--max-target-bytes=0', '--x-ignore-semgrepignore-files', 'project');
    const run = await execute(executable, args, workDir, home, options.timeoutMs ?? 180_000);
    if (run.error) return { status: 'not_assessed', reason: run.error };
    // Exit codes above 1 are fatal (invalid rules, crashes): whatever it printed is not a complete scan.
    if (run.code !== 0 && run.code !== 1) {
      return {
        status: 'not_assessed',
        reason: `semgrep failed (exit ${run.code}): ${firstError(run.stdout) ?? tail(run.stderr)}`,
      };
    }
    let output: z.infer<typeof SemgrepOutput>;
    try {
      output = SemgrepOutput.parse(JSON.parse(run.stdout));
    } catch {
      return {
        status: 'not_assessed',
        reason: `semgrep exited ${run.code} without a readable report: ${tail(run.stderr)}`,
      };
    }
    const findings = output.results.map((result) => {
      const meta = result.extra.metadata ?? {};
      const declared = String(meta['qlp-severity'] ?? '');
      const severity = (SEVERITIES.has(declared) ? declared : fromSemgrepSeverity(result.extra.severity)) as Severity;
      return finding({
        ruleId: `semgrep/${result.check_id.split('.').at(-1)}`,
        tool: 'semgrep',
        category: 'security',
        severity,
        message: redactSecrets(result.extra.message ?? result.check_id),
        location: { path: projectRelative(result.path), line: result.start.line, column: result.start.col },
        cwe: typeof meta.cwe === 'string' ? [meta.cwe] : undefined,
        remediation: typeof meta.remediation === 'string' ? meta.remediation : undefined,
      });
    });
    const errors = output.errors.map((e) => redactSecrets(e.message ?? 'semgrep error')).slice(0, 20);
    return {
      status: 'completed',
      version: output.version,
      findings,
      errors,
      unassessed: unassessed(output, written, projectRelative),
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Files an error names (parse error, timeout), and code files semgrep did not list as scanned. */
function unassessed(
  output: z.infer<typeof SemgrepOutput>,
  written: string[],
  projectRelative: (path: string) => string,
): { path: string; reason: string }[] {
  const entries = new Map<string, string>();
  for (const error of output.errors) {
    if (!error.path) continue;
    const type = Array.isArray(error.type) ? String(error.type[0]) : String(error.type ?? 'error');
    const message = redactSecrets((error.message ?? '').split('\n')[0]!).slice(0, 200);
    entries.set(projectRelative(error.path), `semgrep ${type}: ${message}`);
  }
  const scanned = output.paths?.scanned;
  if (scanned) {
    const seen = new Set(scanned.map(projectRelative));
    for (const path of written.filter(isCodeFile))
      if (!seen.has(path) && !entries.has(path)) entries.set(path, 'semgrep did not scan it');
  }
  return [...entries].map(([path, reason]) => ({ path, reason }));
}

const fromSemgrepSeverity = (severity = ''): Severity =>
  severity === 'ERROR' ? 'high' : severity === 'WARNING' ? 'medium' : 'low';

function firstError(stdout: string): string | undefined {
  try {
    const parsed = SemgrepOutput.pick({ errors: true }).parse(JSON.parse(stdout));
    return parsed.errors[0]?.message?.split('\n')[0];
  } catch {
    return undefined;
  }
}

const tail = (text: string) => text.trim().split('\n').slice(-3).join(' ').slice(0, 300);

function execute(
  command: string,
  args: string[],
  cwd: string,
  home: string,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; error?: string }> {
  return new Promise((resolvePromise) => {
    // A minimal environment: the worker's secrets (database, S3, LLM keys) are not semgrep's business,
    // and HOME is a scratch folder for its settings and caches.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: process.env.LANG ?? 'C.UTF-8' };
    const child = spawn(command, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolvePromise({ code: null, stdout, stderr, error: `semgrep could not start: ${error.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const error = signal ? `semgrep stopped by ${signal} (timeout ${timeoutMs} ms)` : undefined;
      resolvePromise({ code, stdout, stderr, error });
    });
  });
}
