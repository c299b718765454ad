import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  filesDigest,
  findPathConflicts,
  loadFiles,
  mergeTaskOutputs,
  pathConflictReason,
  storeTaskFiles,
  unsafePathReason,
} from '../../adapters/storage/artifacts';
import { createValidationActivities } from '../../activities/validate';
import { OUTPUT_POLICIES, outputProblems, UNSAFE_PATH } from '../../agents/llm/output-policy';
import { deterministicTarGz } from '../../capsule/archive';
import { ValidationReport } from '../../contracts/validation';
import { openStack, type TestStack } from '../support/stack';

// Item 9 of issue 14: paths that cannot be unpacked side by side are refused early (an agent's own output,
// so it can retry) or reported at the gate naming both tasks (across tasks), never found by packaging after approval.

describe('path rules, in one place', () => {
  it.each([
    ['src/con.ts', /device name Windows reserves/],
    ['docs/NUL.txt.bak', /device name Windows reserves/],
    ['lpt1', /device name Windows reserves/],
    ['src/Com9.json', /device name Windows reserves/],
    ['src/\u202eexe.ts', /bidirectional or invisible/],
    ['src/a\u200bb.ts', /bidirectional or invisible/],
    ['src/\u0085x.ts', /control characters/],
    ['src/x.ts.', /ending in a dot or a space/],
    ['src/x.ts ', /ending in a dot or a space/],
    ['docs /a.md', /ending in a dot or a space/],
    ['src/a|b.ts', /file systems refuse/],
    ['src/a:b.ts', /colon/],
  ])('refuses %j', (path, reason) => {
    expect(unsafePathReason(path)).toMatch(reason);
  });

  it.each(['src/console.ts', 'src/auxiliary.ts', 'docs/api.md', 'src/com10.ts', 'src/.env.example'])(
    'accepts %j',
    (path) => {
      expect(unsafePathReason(path)).toBeUndefined();
    },
  );

  it('names why two paths clash', () => {
    expect(pathConflictReason('docs/api.md', 'docs/api.md/index.md')).toMatch(
      /is a file, but .* needs it as a directory/,
    );
    expect(pathConflictReason('src/User.ts', 'src/user.ts')).toMatch(/letter case/);
    expect(pathConflictReason('docs/caf\u00e9.md', 'docs/cafe\u0301.md')).toMatch(/Unicode normalisation/);
    expect(pathConflictReason('src/a.ts', 'src/b.ts')).toBeUndefined();
    expect(pathConflictReason('docs/api', 'docs/api.md')).toBeUndefined();
  });

  it('refuses an agent output that clashes with itself or with a dependency, so the agent can retry', () => {
    const problems = outputProblems(
      [
        { path: 'src/User.ts', content: 'export const a = 1;\n' },
        { path: 'src/user.ts', content: 'export const b = 1;\n' },
        { path: 'src/con.ts', content: 'export const c = 1;\n' },
        { path: 'docs/api.md/index.md', content: '# api\n' },
      ],
      { ...OUTPUT_POLICIES.codegen, extensions: ['.ts', '.md'] },
      new Set(['docs/api.md']),
    );
    expect(problems).toEqual([
      `${UNSAFE_PATH} "src/con.ts": uses "con.ts", a device name Windows reserves`,
      expect.stringMatching(/^unsafe path "src\/user\.ts" clashes with "src\/User\.ts": .*letter case/),
      expect.stringMatching(/^unsafe path "docs\/api\.md\/index\.md" clashes with a dependency's "docs\/api\.md"/),
    ]);
  });
});

describe('the merge of task outputs', () => {
  const file = (path: string, taskId: string) => ({ path, taskId });

  it('keeps the first writer of a place, drops what cannot coexist, and names both tasks', () => {
    const { kept, conflicts } = findPathConflicts([
      file('docs/api.md', 'docs'),
      file('docs/api.md/index.md', 'site'),
      file('src/User.ts', 'model'),
      file('src/user.ts', 'api'),
      file('lib/x/y.ts', 'one'),
      file('lib/x', 'two'),
      file('README.md', 'docs'),
      file('README.md', 'site'),
      file('notes/caf\u00e9.md', 'docs'),
      file('notes/cafe\u0301.md', 'site'),
    ]);
    expect(kept.map((f) => f.path)).toEqual([
      'docs/api.md',
      'src/User.ts',
      'src/user.ts',
      'lib/x/y.ts',
      'README.md',
      'notes/caf\u00e9.md',
      'notes/cafe\u0301.md',
    ]);
    expect(conflicts).toEqual([
      expect.objectContaining({
        paths: ['docs/api.md', 'docs/api.md/index.md'],
        tasks: ['docs', 'site'],
        dropped: 'docs/api.md/index.md',
      }),
      expect.objectContaining({ paths: ['src/User.ts', 'src/user.ts'], tasks: ['model', 'api'] }),
      expect.objectContaining({ paths: ['lib/x/y.ts', 'lib/x'], tasks: ['one', 'two'], dropped: 'lib/x' }),
      expect.objectContaining({ paths: ['README.md', 'README.md'], tasks: ['docs', 'site'], dropped: 'README.md' }),
      expect.objectContaining({
        paths: ['notes/caf\u00e9.md', 'notes/cafe\u0301.md'],
        reason: expect.stringMatching(/normalisation/),
      }),
    ]);
    expect(conflicts[1]!.dropped).toBeUndefined();
  });
});

describe('conflicts across tasks reach the gate, and packaging can still build what was reviewed', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await openStack('path-conflicts');
  });
  afterAll(async () => {
    await stack.close();
  });

  it('fails the verdict with a finding naming both tasks and both paths; the digest covers what ships', async () => {
    const intentId = randomUUID();
    const artifacts = [
      await storeTaskFiles(stack.store, intentId, 'docs', [
        { path: 'docs/api.md', content: '# API\n' },
        { path: 'src/User.ts', content: 'export interface User {\n  id: string;\n}\n' },
      ]),
      await storeTaskFiles(stack.store, intentId, 'site', [
        { path: 'docs/api.md/index.md', content: '# API index\n' },
        { path: 'src/user.ts', content: 'export const user = { id: "1" };\n' },
      ]),
    ];
    const merged = await mergeTaskOutputs(stack.store, artifacts);
    expect(merged.conflicts.map((c) => c.tasks)).toEqual([
      ['docs', 'site'],
      ['docs', 'site'],
    ]);

    const activities = createValidationActivities(stack.store, { semgrepPath: undefined });
    const env = new MockActivityEnvironment();
    const run = <I, O>(fn: (input: I) => Promise<O>, input: I) => env.run(fn, input) as Promise<O>;
    const staticSummary = await run(activities.staticReview, { intentId, artifacts });
    const compliance = await run(activities.complianceReview, { intentId, artifacts });
    const score = await run(activities.scoreValidation, { intentId, static: staticSummary, compliance, artifacts });
    expect(score.verdict).toBe('failed');
    const report = ValidationReport.parse(await stack.store.getJson(score.reportKey));
    const clashes = report.findings.filter((f) => f.ruleId === 'content/path-conflict').map((f) => f.message);
    expect(clashes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^Task site's "docs\/api\.md\/index\.md" clashes with task docs's "docs\/api\.md".*left out/,
        ),
        expect.stringMatching(/^Task site's "src\/user\.ts" clashes with task docs's "src\/User\.ts": .*letter case/),
      ]),
    );

    // The set validated, digested and packaged is the merged one: it can be archived, the raw union cannot.
    const shipped = await loadFiles(stack.store, artifacts);
    expect(shipped.map((f) => f.path).sort()).toEqual(['docs/api.md', 'src/User.ts', 'src/user.ts']);
    expect(score.digest?.files).toBe(filesDigest(shipped));
    const archive = (paths: string[]) =>
      deterministicTarGz(
        new Map(paths.map((p) => [`files/${p}`, Buffer.from('x')])),
        paths.map((p) => `files/${p}`),
      );
    await expect(archive(shipped.map((f) => f.path))).resolves.toBeInstanceOf(Buffer);
    await expect(archive(['docs/api.md', 'docs/api.md/index.md'])).rejects.toThrow();
  });
});
