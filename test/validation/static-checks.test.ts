import { checkDependencies, pinsVersion } from '../../validation/static/dependencies';
import { lintProject } from '../../validation/static/eslint';
import { runLlmReview, type LlmReviewer } from '../../validation/static/llm-review';
import { detectSecrets, isSecretName, scanSecrets } from '../../validation/static/secrets';
import { findExecutable, runSemgrep } from '../../validation/static/semgrep';
import { typeCheck } from '../../validation/static/typescript';
import { runStaticReview } from '../../validation/static';
import { projectFromFiles, type Project } from '../../validation/project';

const project = (files: Record<string, string>): Project =>
  projectFromFiles(Object.entries(files).map(([path, content]) => ({ path, content })));
const ruleIds = (findings: { ruleId: string }[]) => findings.map((f) => f.ruleId);

describe('project', () => {
  it('refuses paths outside the project and leaves binary files out', () => {
    expect(() => project({ '../etc/passwd': 'x' })).toThrow(/unsafe project path/);
    expect(() => project({ '/abs.ts': 'x' })).toThrow(/unsafe project path/);
    expect(project({ 'img.png': 'a\0b', 'a.ts': 'x' }).files.map((f) => f.path)).toEqual(['a.ts']);
  });
});

describe('typescript diagnostics', () => {
  it('reports type errors with file:line under strict settings', () => {
    const result = typeCheck(project({ 'src/a.ts': 'export const n: number = "one";\n' }));
    expect(result.filesChecked).toBe(1);
    expect(result.diagnostics).toEqual([expect.stringMatching(/^src\/a\.ts:1:14 TS2322: /)]);
    expect(result.findings[0]).toMatchObject({
      ruleId: 'TS2322',
      tool: 'typescript',
      severity: 'medium',
      location: { path: 'src/a.ts', line: 1 },
    });
  });

  it('passes correct code and resolves relative imports in memory', () => {
    const result = typeCheck(
      project({
        'src/a.ts': 'import { b } from "./b";\nexport const a: string = b;\n',
        'src/b.ts': 'export const b = "x";\n',
      }),
    );
    expect(result.diagnostics).toEqual([]);
  });

  it('puts JavaScript files in the program (imports resolve) without type-checking them', () => {
    const result = typeCheck(
      project({
        'src/a.ts': 'import { twice } from "./b";\nexport const n: number = twice(2);\n',
        'src/b.js': "export function twice(n) { return n * 2; }\nexport const odd = 'x' - 1;\n",
      }),
    );
    expect(result.filesChecked).toBe(1);
    expect(result.diagnostics).toEqual([]);
  });

  it('keeps diagnostics that only reflect untyped third-party packages as info', () => {
    const result = typeCheck(
      project({
        'src/app.ts': [
          "import express from 'express';",
          'const app = express();',
          "app.get('/', (req, res) => res.send('ok'));",
          "app.post('/x', ({ body }, res) => res.json(body));",
          'export function own(x) { return x; }',
        ].join('\n'),
      }),
      { nodeTypes: true },
    );
    expect(result.findings.map((f) => [f.ruleId, f.location?.line, f.severity])).toEqual([
      ['TS2307', 1, 'info'],
      ['TS7006', 3, 'info'],
      ['TS7006', 3, 'info'],
      ['TS7031', 4, 'info'],
      ['TS7006', 4, 'info'],
      // A parameter of the project's own function: a real gap in its types.
      ['TS7006', 5, 'medium'],
    ]);
    expect(result.findings[1]!.message).toMatch(/its type would come from 'express'/);
  });

  it('type-checks NestJS-style parameter decorators as the framework compiles them (legacy decorators)', () => {
    const controller = [
      "import { Body, Controller, Post } from '@nestjs/common';",
      "@Controller('orders')",
      'export class OrdersController {',
      '  @Post() create(@Body() body: unknown) { return body; }',
      '}',
    ].join('\n');
    const result = typeCheck(project({ 'src/orders.controller.ts': controller }), { nodeTypes: true });
    expect(result.findings.filter((f) => f.severity !== 'info')).toEqual([]);
  });

  it('does not see files outside the project (no ambient node_modules)', () => {
    const result = typeCheck(project({ 'src/a.ts': 'import { z } from "zod";\nexport const s = z;\n' }));
    expect(result.diagnostics.join()).toMatch(/TS2307: Cannot find module 'zod'/);
  });
});

describe('eslint security rules', () => {
  it('flags eval and shell commands built from input', () => {
    const { findings } = lintProject(
      project({
        'src/a.ts':
          'import { exec } from "child_process";\nexport function f(x: string) { eval(x); exec("ls " + x); }\n',
      }),
    );
    expect(ruleIds(findings)).toEqual(
      expect.arrayContaining([
        'eslint/no-eval',
        'eslint/security/detect-eval-with-expression',
        'eslint/security/detect-child-process',
      ]),
    );
  });

  it('is quiet on ordinary code and ignores inline disable comments in generated code', () => {
    expect(
      lintProject(project({ 'src/a.ts': 'export const add = (a: number, b: number) => a + b;\n' })).findings,
    ).toEqual([]);
    const disabled = lintProject(
      project({ 'src/a.ts': '// eslint-disable-next-line\nexport const f = (x: string) => eval(x);\n' }),
    );
    expect(ruleIds(disabled.findings)).toContain('eslint/no-eval');
  });

  it('reports a file it cannot parse', () => {
    const result = lintProject(project({ 'src/bad.ts': 'const = ;' }));
    expect(result.parseErrors).toBe(1);
    expect(ruleIds(result.findings)).toEqual(['eslint/parse-error']);
  });
});

describe('secret detection', () => {
  const secret = 'S3cr3tPassw0rd!x';

  it('finds credentials in secret-named variables and never echoes them', async () => {
    const scan = await scanSecrets(project({ 'src/db.ts': `export const dbPassword = "${secret}";\n` }));
    expect(scan.secretlint.ran).toBe(true);
    expect(scan.findings).toHaveLength(1);
    expect(scan.findings[0]).toMatchObject({
      ruleId: 'secrets/hardcoded-credential',
      severity: 'high',
      location: { path: 'src/db.ts', line: 1 },
    });
    expect(JSON.stringify(scan.findings)).not.toContain(secret);
    expect(scan.findings[0]!.message).toMatch(/redacted, 16 chars, sha256:[0-9a-f]{8}/);
  });

  it('finds provider tokens with secretlint and private keys', async () => {
    const token = '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';
    const scan = await scanSecrets(
      project({
        'src/gh.ts': `const t = "${token}";\n`,
        'keys/id_rsa': '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n',
      }),
    );
    expect(ruleIds(scan.findings)).toEqual(expect.arrayContaining(['secrets/github', 'secrets/private-key']));
    expect(JSON.stringify(scan.findings)).not.toContain(token);
  });

  it('ignores environment lookups, placeholders, prose and non-secret names', () => {
    const findings = detectSecrets(
      project({
        'src/config.ts': [
          'const apiKey = process.env.API_KEY;',
          'const password = "changeme";',
          'const tokenType = "Bearer";',
          'const cacheKey = "users:all:v2";',
          'const message = { password: "Password must be at least 12 characters" };',
          'const sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";',
        ].join('\n'),
        '.env.example': 'JWT_SECRET=your-jwt-secret-here\nAPI_KEY=<your-api-key>\n',
      }),
    );
    expect(findings).toEqual([]);
  });

  it('names by their last word', () => {
    expect(isSecretName('stripeApiKey')).toBe(true);
    expect(isSecretName('JWT_SECRET')).toBe(true);
    expect(isSecretName('cacheKey')).toBe(false);
    expect(isSecretName('passwordMinLength')).toBe(false);
  });

  it('flags high-entropy literals but not hashes', () => {
    const found = detectSecrets(
      project({ 'src/a.ts': 'const blob = "aGVsbG8gd29ybGQgdGhpcyBpcyBRmFzZTY0IGRhdGEK9xZ";\n' }),
    );
    expect(ruleIds(found)).toEqual(['secrets/high-entropy-string']);
    expect(
      detectSecrets(project({ 'src/a.ts': 'const digest = "aGVsbG8gd29ybGQgdGhpcyBpcyBRmFzZTY0IGRhdGEK9xZ";\n' })),
    ).toEqual([]);
  });
});

describe('semgrep', () => {
  const vulnerable = project({
    'src/db.ts':
      'export async function f(db: any, id: string) {\n  return db.query(`SELECT * FROM users WHERE id = ${id}`);\n}\n',
  });

  it('is not assessed, never clean, when semgrep is not installed', async () => {
    await expect(runSemgrep(vulnerable, { executable: null })).resolves.toEqual({
      status: 'not_assessed',
      reason: 'semgrep is not installed (not on PATH)',
    });
    await expect(findExecutable('semgrep', '/nonexistent')).resolves.toBeUndefined();
  });

  it('is not assessed when semgrep runs but produces no report', async () => {
    const run = await runSemgrep(vulnerable, { executable: '/bin/false' });
    expect(run.status).toBe('not_assessed');
  });

  it('finds SQL injection with the repository rules when semgrep is on PATH (not assessed otherwise)', async () => {
    const executable = await findExecutable('semgrep');
    const run = await runSemgrep(vulnerable);
    if (!executable) {
      expect(run.status).toBe('not_assessed');
      return;
    }
    expect(run).toMatchObject({ status: 'completed', errors: [] });
    expect(run.status === 'completed' && run.findings).toEqual([
      expect.objectContaining({
        ruleId: 'semgrep/qlp-sql-injection-template',
        severity: 'critical',
        location: expect.objectContaining({ path: 'src/db.ts', line: 2 }),
      }),
    ]);
  });
});

describe('dependency policy', () => {
  const manifest = (dependencies: Record<string, string>) => ({
    'package.json': JSON.stringify({ dependencies }, null, 2),
  });

  it('flags known-malicious packages and exact pins of compromised versions', () => {
    const findings = checkDependencies(
      project(manifest({ crossenv: '^1.0.0', 'event-stream': '3.3.6', debug: '^4.3.7' })),
    );
    expect(findings.map((f) => [f.ruleId, f.severity])).toEqual([
      ['dependencies/malicious-package', 'critical'],
      ['dependencies/compromised-version', 'critical'],
    ]);
    expect(pinsVersion('=3.3.6', '3.3.6')).toBe(true);
    expect(pinsVersion('^3.3.0', '3.3.6')).toBe(false);
  });

  it('flags compromised versions a lockfile resolves to', () => {
    const lock = JSON.stringify({
      lockfileVersion: 3,
      packages: { '': {}, 'node_modules/debug': { version: '4.4.2' } },
    });
    const findings = checkDependencies(project({ ...manifest({ debug: '^4.3.7' }), 'package-lock.json': lock }));
    expect(ruleIds(findings)).toEqual(['dependencies/compromised-version']);
    expect(findings[0]!.location!.path).toBe('package-lock.json');
  });

  it('flags packages outside the offline set, licences off the allow-list and undeclared imports', () => {
    const findings = checkDependencies(
      project({
        ...manifest({ 'super-fast-orm-helper': '^1.0.0', pm2: '^5.0.0', express: '^5.1.0' }),
        'src/a.ts':
          "import { z } from 'zod';\nimport fs from 'node:fs';\nimport test from 'node:test';\nimport x from './x';\n",
      }),
    );
    expect(ruleIds(findings)).toEqual([
      'dependencies/unknown-package',
      'dependencies/licence-not-allowed',
      'dependencies/undeclared-import',
    ]);
  });

  it('accepts known, permissively licensed, declared packages', () => {
    const files = {
      ...manifest({ express: '^5.1.0', zod: '^4.0.0', '@types/node': '^20.0.0' }),
      'src/a.ts': "import express from 'express';\nimport { z } from 'zod';\n",
    };
    expect(checkDependencies(project(files))).toEqual([]);
  });
});

describe('LLM review', () => {
  const code = project({ 'src/a.ts': 'export const a = 1;\nexport const b = 2;\n' });
  const reviewer = (answer: unknown): LlmReviewer => ({ name: 'fake-model', review: async () => answer });

  it('is skipped, and says so, without an LLM', async () => {
    await expect(runLlmReview(code)).resolves.toEqual({
      status: 'skipped',
      reason: 'no LLM configured (offline mode)',
    });
  });

  it('keeps valid findings, drops ones about lines that do not exist, and redacts secrets', async () => {
    const leaked = 'sk_live_51HxQkLzB9mN3pQrS7tUvWxYz12';
    const result = await runLlmReview(
      code,
      reviewer({
        findings: [
          {
            ruleId: 'magic-number',
            category: 'quality',
            severity: 'low',
            path: 'src/a.ts',
            line: 2,
            message: `uses ${leaked}`,
          },
          {
            ruleId: 'made-up',
            category: 'security',
            severity: 'high',
            path: 'src/a.ts',
            line: 99,
            message: 'no such line',
          },
          {
            ruleId: 'made-up',
            category: 'security',
            severity: 'high',
            path: 'src/none.ts',
            line: 1,
            message: 'no such file',
          },
        ],
      }),
    );
    expect(result).toMatchObject({ status: 'completed', reviewer: 'fake-model', dropped: 2 });
    expect(result.status === 'completed' && result.findings.map((f) => [f.ruleId, f.message])).toEqual([
      ['llm/magic-number', 'uses [redacted]'],
    ]);
  });

  it('is not assessed when the answer does not match the schema or the call fails', async () => {
    const invalid = await runLlmReview(code, reviewer({ findings: [{ ruleId: 'X', severity: 'urgent' }] }));
    expect(invalid).toMatchObject({
      status: 'not_assessed',
      reason: expect.stringMatching(/failed validation at findings\.0\./),
    });
    const failing = await runLlmReview(code, { name: 'down', review: async () => Promise.reject(new Error('503')) });
    expect(failing).toEqual({ status: 'not_assessed', reason: 'LLM review failed: 503' });
  });
});

describe('static review', () => {
  it('runs every check and reports each one with its status', async () => {
    const report = await runStaticReview(
      project({
        'src/a.ts': 'export const n: number = 1;\n',
        'package.json': JSON.stringify({ devDependencies: { typescript: '~5.9.3' } }),
      }),
      { intentId: 'i-1' },
      { semgrep: { executable: null } },
    );
    expect(report.checks.map((c) => [c.tool, c.status])).toEqual([
      ['content', 'passed'],
      ['suppressions', 'passed'],
      ['typescript', 'passed'],
      ['eslint', 'passed'],
      ['secrets', 'passed'],
      ['semgrep', 'not_assessed'],
      ['dataflow', 'passed'],
      ['dependencies', 'passed'],
      ['artifacts', 'passed'],
      ['llm', 'skipped'],
    ]);
    expect(report.findings).toEqual([]);
  });

  it('reviews JavaScript too: command injection in a .js file is reported', async () => {
    const report = await runStaticReview(
      project({
        'src/archive.js':
          "const { exec } = require('child_process');\nmodule.exports = (req, res) => {\n  exec('tar czf /tmp/a.tgz ' + req.query.dir, () => res.end());\n};\n",
      }),
      { intentId: 'i-js' },
      { semgrep: { executable: null } },
    );
    expect(report.checks.find((c) => c.tool === 'typescript')?.status).toBe('not_assessed');
    expect(report.checks.find((c) => c.tool === 'dataflow')?.status).toBe('failed');
    expect(
      report.findings
        .filter((f) => f.location?.path === 'src/archive.js' && f.location.line === 3)
        .map((f) => [f.ruleId, f.severity]),
    ).toEqual(
      expect.arrayContaining([
        ['dataflow/command-injection', 'critical'],
        ['eslint/security/detect-child-process', 'medium'],
      ]),
    );
  });

  it('treats a missing declared dependency as information, not a build break', async () => {
    const report = await runStaticReview(
      project({
        'src/a.ts': "import express from 'express';\nexport const app = express;\n",
        'package.json': JSON.stringify({ dependencies: { express: '^5.1.0' } }),
      }),
      { intentId: 'i-2' },
      { semgrep: { executable: null } },
    );
    expect(report.findings.filter((f) => f.tool === 'typescript').map((f) => f.severity)).toEqual(['info']);
  });
});
