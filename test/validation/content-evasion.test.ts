import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { filesDigest, loadFiles, storeTaskFiles } from '../../adapters/storage/artifacts';
import { createValidationActivities } from '../../activities/validate';
import { loadProject } from '../../activities/validate/load-project';
import { OUTPUT_POLICIES, outputProblems } from '../../agents/llm/output-policy';
import { StaticReport, ValidationReport } from '../../contracts/validation';
import { projectFromFiles } from '../../validation/project';
import { openStack, type TestStack } from '../support/stack';

// Item 1 of issue 14: validation reads byte for byte what the capsule ships. A NUL byte once hid a file from
// every layer while packaging shipped it; now it is a finding, the file is still analysed, and the set the
// layers read is the set the gate's digest covers.

const runIn = <I, O>(env: MockActivityEnvironment, fn: (input: I) => Promise<O>, input: I): Promise<O> =>
  env.run(fn, input) as Promise<O>;

let stack: TestStack;
beforeAll(async () => {
  stack = await openStack('content-evasion');
});
afterAll(async () => {
  await stack.close();
});

const TOKEN = `ghp_${'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'}`;
// The NUL sits in a comment: TypeScript and Node accept it, and the old loader dropped the whole file.
const nulServer = [
  "import { exec } from 'node:child_process';",
  "import http from 'node:http';",
  '',
  `// build helper \0 do not remove`,
  `const githubToken = '${TOKEN}';`,
  '',
  'http',
  '  .createServer((req, res) => {',
  "    const url = new URL(req.url ?? '/', 'http://localhost');",
  "    exec(url.searchParams.get('cmd') ?? '', (error, stdout) => res.end(stdout));",
  "    res.setHeader('x-token', githubToken);",
  '  })',
  '  .listen(8080);',
  '',
].join('\n');

async function validate(files: { path: string; content: string }[]) {
  const intentId = randomUUID();
  const artifacts = [await storeTaskFiles(stack.store, intentId, 'module', files)];
  const activities = createValidationActivities(stack.store, { semgrepPath: undefined });
  const env = new MockActivityEnvironment();
  const staticSummary = await runIn(env, activities.staticReview, { intentId, artifacts });
  const complianceSummary = await runIn(env, activities.complianceReview, { intentId, artifacts });
  const score = await runIn(env, activities.scoreValidation, {
    intentId,
    static: staticSummary,
    compliance: complianceSummary,
    artifacts,
  });
  const report = ValidationReport.parse(await stack.store.getJson(score.reportKey));
  const staticReport =
    staticSummary.status === 'assessed'
      ? StaticReport.parse(await stack.store.getJson(staticSummary.reportKey))
      : undefined;
  return { artifacts, score, report, staticReport };
}

describe('one set of files, everywhere', () => {
  it('a NUL-bearing file with a token and exec of request data is analysed, named, and not passed', async () => {
    const { score, report, staticReport } = await validate([
      { path: 'src/server.ts', content: nulServer },
      { path: 'README.md', content: '# tool\n' },
    ]);
    expect(score.verdict).not.toBe('passed');
    expect(score.verdict).toBe('failed');
    const onServer = report.findings.filter((f) => f.location?.path === 'src/server.ts');
    // The content policy names it, and the file's text was analysed: its token and its command injection are found.
    expect(onServer.map((f) => f.ruleId)).toEqual(expect.arrayContaining(['content/nul-byte']));
    const staticOnServer = staticReport!.findings.filter((f) => f.location?.path === 'src/server.ts');
    expect(staticOnServer.some((f) => f.tool === 'secrets' && f.severity === 'critical')).toBe(true);
    expect(onServer.some((f) => (f.cwe ?? []).includes('CWE-78'))).toBe(true);
    expect(report.verdict.reasons.join('\n')).toMatch(/content policy: src\/server\.ts contains 1 control character/);
    expect(staticReport!.filesReviewed).toBe(2);
    expect(JSON.stringify(report)).not.toContain(TOKEN);
  });

  it('the files validation reads are exactly the files the gate digest covers and packaging ships', async () => {
    const files = [
      { path: 'src/server.ts', content: nulServer },
      { path: 'src/escape.ts', content: 'export const title = "ok";\u001b[2K\n' },
      { path: 'assets/module.wasm', content: '\u0000asm\u0001\u0000\u0000\u0000' },
      { path: 'data/blob.xyz', content: 'head\u0000tail' },
      { path: 'README.md', content: '# tool\n' },
    ];
    const { artifacts, score } = await validate(files);
    const shipped = await loadFiles(stack.store, artifacts);
    const project = await loadProject(stack.store, artifacts);

    // Every shipped file is either read as text or listed as not assessed: nothing falls out in between.
    const read = project.files.map((f) => f.path);
    const listed = (project.unassessed ?? []).map((f) => f.path);
    expect([...new Set([...read, ...listed])].sort()).toEqual(shipped.map((f) => f.path).sort());
    expect(listed.sort()).toEqual(['assets/module.wasm', 'data/blob.xyz']);
    // Byte for byte: what the checks read is the shipped content, with only NUL blanked (same length, same offsets).
    for (const file of project.files) {
      const bytes = shipped.find((s) => s.path === file.path)!.content;
      expect(Buffer.from(file.content, 'utf8').equals(Buffer.from(bytes.toString('utf8').replaceAll('\0', ' ')))).toBe(
        true,
      );
    }
    // The digest recorded at scoring is over the same set packaging loads.
    expect(score.digest?.files).toBe(filesDigest(shipped));
    expect(score.verdict).not.toBe('passed');
  });

  it('binary files ship "not assessed" and keep an otherwise clean project from passing', async () => {
    const { score, report } = await validate([
      { path: 'src/add.ts', content: 'export const add = (a: number, b: number): number => a + b;\n' },
      { path: 'assets/logo.png', content: '\u0089PNG\r\n\u001a\n\u0000\u0000' },
    ]);
    expect(report.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(score.verdict).toBe('not_assessed');
    expect(report.verdict.reasons.join('\n')).toMatch(/not assessed: assets\/logo\.png/);
  });

  it('an ESC in a source file fails the verdict, naming the file', async () => {
    const { score, report } = await validate([
      { path: 'src/add.ts', content: 'export const add = (a: number, b: number): number => a + b; // \u001b[2K\n' },
    ]);
    expect(score.verdict).toBe('failed');
    expect(report.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ruleId: 'content/control-character',
          location: expect.objectContaining({ path: 'src/add.ts', line: 1 }),
        }),
      ]),
    );
  });
});

describe('content policy at agent output', () => {
  it('refuses control characters other than tab/newline/CR, naming the file, so the agent can retry', () => {
    const problems = outputProblems(
      [
        { path: 'src/a.ts', content: 'export const a = 1;\n// \u0000 hidden\n' },
        { path: 'src/b.ts', content: 'export const b = "\u001b]0;title\u0007";\n' },
        { path: 'src/c.ts', content: 'export const c = 1;\r\n\tconst d = 2;\n' },
      ],
      OUTPUT_POLICIES.codegen,
    );
    expect(problems).toEqual([
      expect.stringMatching(/^"src\/a\.ts" contains the control character U\+0000 \(line 2\)/),
      expect.stringMatching(/^"src\/b\.ts" contains the control character U\+001B \(line 1\)/),
    ]);
  });

  it('keeps text typed files as text and lists what is not', () => {
    const project = projectFromFiles([
      { path: 'Dockerfile', content: 'FROM node:20\u0000\n' },
      { path: 'scripts/run.sh', content: 'echo hi\n' },
      { path: 'bin/tool.exe', content: Buffer.from([0x4d, 0x5a, 0x00, 0x01]) },
      { path: 'src/bad.ts', content: Buffer.from([0x63, 0x6f, 0xff, 0x0a]) },
    ]);
    expect(project.files.map((f) => f.path)).toEqual(['Dockerfile', 'scripts/run.sh', 'src/bad.ts']);
    expect(project.files[0]!.content).toBe('FROM node:20 \n');
    expect(project.controlCharacters).toEqual([
      expect.objectContaining({ path: 'Dockerfile', line: 1, column: 13, characters: ['U+0000'] }),
    ]);
    expect(project.unassessed).toEqual([{ path: 'bin/tool.exe', reason: expect.stringMatching(/binary file type/) }]);
  });
});
