import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Finding } from '../../contracts/validation';
import { runCompliance } from '../../validation/compliance/engine';
import { projectFromFiles, type Project } from '../../validation/project';
import { DEFAULT_THRESHOLDS, scoreValidation } from '../../validation/scoring';
import { runStaticReview } from '../../validation/static';
import { lintProject } from '../../validation/static/eslint';
import { findExecutable, runSemgrep } from '../../validation/static/semgrep';
import { SUPPRESSION_DIRECTIVES, suppressionFindings } from '../../validation/static/suppressions';
import { typeCheck } from '../../validation/static/typescript';

// Item 3 of issue 14: generated code cannot switch its checks off. Every suppression is a finding, and
// every checker ignores it; a file a checker could not read is "not assessed" and keeps the verdict from `passed`.

const project = (files: Record<string, string>): Project =>
  projectFromFiles(Object.entries(files).map(([path, content]) => ({ path, content })));

const installed = resolve(__dirname, '../../.tools/semgrep/bin/semgrep');
const semgrepExecutable = async () => (existsSync(installed) ? installed : await findExecutable('semgrep'));

async function gate(files: Record<string, string>, semgrep: { executable?: string | null } = { executable: null }) {
  const built = project(files);
  const staticReport = await runStaticReview(built, { intentId: 'i' }, { semgrep });
  const compliance = await runCompliance(built, { intentId: 'i' });
  return {
    staticReport,
    result: scoreValidation({ static: staticReport, compliance, thresholds: DEFAULT_THRESHOLDS }),
  };
}

const rules = (findings: Finding[]) => findings.map((f) => f.ruleId);

describe('TypeScript suppressions', () => {
  const typed = {
    'src/nocheck.ts': '// @ts-nocheck\nexport const n: number = "not a number";\n',
    'src/ignore.ts': '// @ts-ignore\nexport const m: number = "still not a number";\n',
    'src/expect.ts': '/* @TS-EXPECT-ERROR */\nexport const k: string = 42;\n',
  };

  it('the type-check still reports errors under @ts-nocheck, @ts-ignore and @ts-expect-error', () => {
    const result = typeCheck(project(typed), { nodeTypes: true });
    expect(result.diagnostics).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^src\/nocheck\.ts:2:14 TS2322/),
        expect.stringMatching(/^src\/ignore\.ts:2:14 TS2322/),
        expect.stringMatching(/^src\/expect\.ts:2:14 TS2322/),
      ]),
    );
  });

  it('each directive is a medium finding naming file and line', () => {
    expect(suppressionFindings(project(typed))).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ruleId: 'suppressions/ts-nocheck',
          severity: 'medium',
          location: { path: 'src/nocheck.ts', line: 1, column: 4 },
        }),
        expect.objectContaining({ ruleId: 'suppressions/ts-ignore', location: expect.objectContaining({ line: 1 }) }),
        expect.objectContaining({ ruleId: 'suppressions/ts-expect-error' }),
      ]),
    );
  });

  it('@ts-nocheck over a type error and eval of input: the verdict fails', async () => {
    const { result } = await gate({
      'src/run.ts':
        "// @ts-nocheck\nimport http from 'node:http';\nexport const port: number = 'eighty';\nhttp.createServer((req, res) => res.end(String(eval(req.url)))).listen(port);\n",
    });
    expect(result.verdict.status).toBe('failed');
    expect(rules(result.findings)).toEqual(expect.arrayContaining(['TS2322', 'suppressions/ts-nocheck']));
  });
});

describe('lint suppressions', () => {
  it('eslint-disable comments are reported and have no effect', () => {
    const files = project({
      'src/a.ts':
        '/* eslint-disable */\n// eslint-disable-next-line no-eval\nexport const f = (s: string) => eval(s);\n',
      'src/b.ts': '/* eslint no-eval: "off" */\nexport const g = (s: string) => eval(s);\n',
    });
    const found = lintProject(files).findings;
    expect(found.filter((f) => f.ruleId === 'eslint/no-eval').map((f) => f.location?.path)).toEqual([
      'src/a.ts',
      'src/b.ts',
    ]);
    expect(rules(suppressionFindings(files)).sort()).toEqual([
      'suppressions/eslint-config',
      'suppressions/eslint-disable',
      'suppressions/eslint-disable',
    ]);
  });

  it('prose may mention directives; the list of directives lives in one place', () => {
    expect(suppressionFindings(project({ 'docs/lint.md': 'We never use eslint-disable or @ts-ignore.\n' }))).toEqual(
      [],
    );
    expect(new Set(SUPPRESSION_DIRECTIVES.map((d) => d.id)).size).toBe(SUPPRESSION_DIRECTIVES.length);
  });
});

describe('semgrep cannot be switched off by the project', () => {
  const evasive = {
    'src/db.ts':
      'export async function f(db: any, id: string) {\n  return db.query(`SELECT * FROM users WHERE id = ${id}`); // nosemgrep\n}\n',
    'test/db.ts':
      'export async function g(db: any, id: string) {\n  return db.query(`SELECT * FROM users WHERE id = ${id}`);\n}\n',
    'dist/db.js':
      'module.exports = async function h(db, id) {\n  return db.query(`SELECT * FROM users WHERE id = ${id}`);\n};\n',
    '.semgrepignore': 'src/\ntest/\ndist/\n',
  };

  it('ignores nosemgrep, the project .semgrepignore and semgrep default ignore list (when installed)', async () => {
    const executable = await semgrepExecutable();
    const run = await runSemgrep(project(evasive), { executable: executable ?? null });
    if (!executable) {
      expect(run).toEqual({ status: 'not_assessed', reason: 'semgrep is not installed (not on PATH)' });
      return;
    }
    expect(run.status).toBe('completed');
    const places = run.status === 'completed' ? run.findings.map((f) => f.location?.path).sort() : [];
    expect(places).toEqual(['dist/db.js', 'src/db.ts', 'test/db.ts']);
    expect(run.status === 'completed' && run.unassessed).toEqual([]);
    expect(suppressionFindings(project(evasive)).map((f) => [f.ruleId, f.location?.path])).toEqual(
      expect.arrayContaining([
        ['suppressions/ignore-file', '.semgrepignore'],
        ['suppressions/nosemgrep', 'src/db.ts'],
      ]),
    );
  });

  describe('with a stand-in semgrep executable', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'qlp-fake-semgrep-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    /** A script that records its environment and arguments and prints the given semgrep JSON. */
    async function fakeSemgrep(output: object): Promise<string> {
      const script = join(dir, `semgrep-${Math.random().toString(36).slice(2)}`);
      await writeFile(join(dir, 'output.json'), JSON.stringify(output));
      await writeFile(
        script,
        `#!/bin/sh\nenv > "${dir}/env.txt"\necho "$@" > "${dir}/args.txt"\ncat "${dir}/output.json"\nexit 0\n`,
      );
      await chmod(script, 0o755);
      return script;
    }

    it('runs with a minimal environment: no worker secrets, HOME in a scratch folder', async () => {
      const executable = await fakeSemgrep({ results: [], errors: [], paths: { scanned: ['project/src/a.ts'] } });
      process.env.QLP_TEST_WORKER_SECRET = 'must-not-leak';
      try {
        const run = await runSemgrep(project({ 'src/a.ts': 'export const a = 1;\n' }), { executable });
        expect(run).toMatchObject({ status: 'completed', unassessed: [] });
      } finally {
        delete process.env.QLP_TEST_WORKER_SECRET;
      }
      const env = Object.fromEntries(
        (await readFile(join(dir, 'env.txt'), 'utf8'))
          .trim()
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
      // The shell adds its own bookkeeping (PWD, SHLVL, _); nothing else comes from the worker.
      expect(
        Object.keys(env)
          .filter((name) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(name))
          .sort(),
      ).toEqual(['HOME', 'LANG', 'PATH']);
      expect(env.HOME).toMatch(/qlp-semgrep-.*\/home$/);
      const args = await readFile(join(dir, 'args.txt'), 'utf8');
      expect(args).toContain('--disable-nosem');
      expect(args).toContain('--x-ignore-semgrepignore-files');
      expect(args).toContain('--max-target-bytes=0');
    });

    it('a parse error or timeout makes that file not assessed, and the verdict cannot pass', async () => {
      const executable = await fakeSemgrep({
        results: [],
        errors: [
          { path: 'project/src/slow.ts', level: 'warn', type: ['Timeout', []], message: 'Timeout when running rules' },
        ],
        paths: { scanned: ['project/src/fine.ts', 'project/src/slow.ts'] },
      });
      const { staticReport, result } = await gate(
        {
          'src/fine.ts': 'export const fine = 1;\n',
          'src/slow.ts': 'export const slow = 2;\n',
          'src/skipped.ts': 'export const skipped = 3;\n',
        },
        { executable },
      );
      expect(staticReport.notAssessedFiles).toEqual(
        expect.arrayContaining([
          { path: 'src/slow.ts', tool: 'semgrep', reason: 'semgrep Timeout: Timeout when running rules' },
          { path: 'src/skipped.ts', tool: 'semgrep', reason: 'semgrep did not scan it' },
        ]),
      );
      expect(result.verdict.status).toBe('not_assessed');
      expect(result.verdict.reasons.join('\n')).toMatch(/not assessed: src\/slow\.ts, src\/skipped\.ts/);
    });
  });

  it('an ESLint parse error makes the file not assessed', async () => {
    const { staticReport, result } = await gate({ 'src/broken.ts': 'export const = ;\n' });
    expect(staticReport.notAssessedFiles).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'src/broken.ts', tool: 'eslint' })]),
    );
    expect(result.verdict.status).not.toBe('passed');
  });
});
