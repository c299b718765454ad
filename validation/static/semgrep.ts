import { spawn } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { Finding, Severity } from '../../contracts/validation';
import { finding } from '../findings';
import { isSafeProjectPath, scannableFiles, type Project } from '../project';
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
  errors: z.array(z.object({ message: z.string().optional(), level: z.string().optional() }).loose()),
});

export type SemgrepRun =
  | { status: 'completed'; version?: string; findings: Finding[]; errors: string[] }
  | { status: 'not_assessed'; reason: string };

export interface SemgrepOptions {
  /** Executable to use; by default `semgrep` on PATH. `null` means none (the caller knows it is absent). */
  executable?: string | null;
  rulesPath?: string;
  timeoutMs?: number;
}

const SEVERITIES = new Set(['critical', 'high', 'medium', 'low', 'info']);

/** Runs semgrep offline with our rules on a temporary copy of the project; absent or failing semgrep is `not_assessed`. */
export async function runSemgrep(project: Project, options: SemgrepOptions = {}): Promise<SemgrepRun> {
  const executable = options.executable === undefined ? await findExecutable('semgrep') : options.executable;
  if (!executable) return { status: 'not_assessed', reason: 'semgrep is not installed (not on PATH)' };
  const workDir = await mkdtemp(join(tmpdir(), 'qlp-semgrep-'));
  try {
    for (const file of scannableFiles(project)) {
      if (!isSafeProjectPath(file.path)) continue;
      await mkdir(dirname(join(workDir, 'project', file.path)), { recursive: true });
      await writeFile(join(workDir, 'project', file.path), file.content);
    }
    const args = ['scan', '--config', options.rulesPath ?? semgrepRulesPath(), '--metrics=off', '--json', '--quiet'];
    args.push('--disable-version-check', '--timeout', '30', '--no-git-ignore', 'project');
    const run = await execute(executable, args, workDir, options.timeoutMs ?? 180_000);
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
        location: { path: result.path.replace(/^project\//, ''), line: result.start.line, column: result.start.col },
        cwe: typeof meta.cwe === 'string' ? [meta.cwe] : undefined,
        remediation: typeof meta.remediation === 'string' ? meta.remediation : undefined,
      });
    });
    const errors = output.errors.map((e) => redactSecrets(e.message ?? 'semgrep error')).slice(0, 20);
    return { status: 'completed', version: output.version, findings, errors };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
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
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; error?: string }> {
  return new Promise((resolvePromise) => {
    // HOME inside the work dir: semgrep writes settings and caches there, never into the worker's home.
    const child = spawn(command, args, { cwd, env: { ...process.env, HOME: cwd, SEMGREP_SEND_METRICS: 'off' } });
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
