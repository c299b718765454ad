import { createHash } from 'node:crypto';
import { buildQuantumDrop, dropDocuments, type DropContext, type DropSources } from '../../capsule/drop/build';
import { diffVersions, type DropFile } from '../../capsule/drop/diff';
import { DROP_LIMITS, type DropLimits } from '../../capsule/drop/limits';
import { renderDrop } from '../../cli/commands/review';
import { QuantumDrop } from '../../contracts/drop';
import type { Plan } from '../../contracts/plan';
import { DynamicReport, ValidationReport, type Finding, type ScoreExplanation } from '../../contracts/validation';

// QuantumDrops without services: the diff between versions (added, modified, removed, binary), its
// bounds, determinism, and the HTML page and terminal rendering fed hostile generated content.

const intentId = '97d03910-e873-48bb-afed-f976e98f1d98';
const sha = (content: Buffer) => createHash('sha256').update(content).digest('hex');
const file = (path: string, text: string | Buffer): DropFile => {
  const content = typeof text === 'string' ? Buffer.from(text) : text;
  return { path, content, sha256: sha(content) };
};
const lines = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix} ${i}\n`).join('');

/** Generated text that tries to break out of the page or the terminal. */
const HOSTILE =
  '<script>alert(1)</script></pre><script src="https://evil.example/x.js"></script><img src=x onerror=alert(2)>';
const ESCAPES = '\x1b[2K\r\x1b]0;pwned\x07\x9b31m\u202eevil';

const v1 = [
  file('README.md', '# Ledger\n'),
  file('src/app.ts', 'export const greet = (name: string) => `hello ${name}`;\nexport const port = 3000;\n'),
  file('src/old.ts', 'export const legacy = true;\n'),
  file('assets/logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01])),
];
const v2 = [
  file('README.md', '# Ledger\n'),
  file('src/app.ts', 'export const greet = (name: string) => `hi ${name}`;\nexport const port = 3000;\n'),
  file('src/new.ts', 'export const fresh = 1;\n'),
  file('assets/logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x02])),
];

const plan: Plan = {
  planner: 'offline-catalogue-v1',
  projectName: 'ledger',
  tasks: [{ id: 'module', type: 'codegen', description: 'Implement the ledger', dependencies: [], priority: 0 }],
};

const explanation: ScoreExplanation = { score: 80, formula: '100 - deductions', deductions: [], notAssessed: [] };
const finding = (
  severity: Finding['severity'],
  path: string,
  line: number,
  message: string,
  ruleId = 'rule',
): Finding => ({
  fingerprint: `${ruleId}-${path}-${line}`,
  ruleId,
  tool: 'semgrep',
  category: 'security',
  severity,
  message,
  location: { path, line },
});

function report(findings: Finding[]): ValidationReport {
  return ValidationReport.parse({
    schemaVersion: 1,
    intentId,
    generatedAt: '2026-03-04T05:06:07.000Z',
    verdict: { status: 'failed', reasons: ['security score 60 is below the threshold 70'] },
    scores: { overall: 72, security: 60, quality: 90, compliance: null },
    explanations: { overall: explanation, security: explanation, quality: explanation, compliance: explanation },
    thresholds: { minConfidenceScore: 70, securityThreshold: 70, qualityThreshold: 70, complianceThreshold: 70 },
    layers: { static: { status: 'assessed' }, compliance: { status: 'assessed' } },
    checks: [],
    frameworks: [],
    requirements: [
      {
        id: 'R1',
        text: `Greets people ${HOSTILE}`,
        kind: 'functional',
        status: 'covered',
        reason: 'traced',
        coveredBy: ['module'],
        evidence: [{ path: 'src/app.ts', line: 1, detail: 'greet' }],
        tests: [{ name: 'greets', status: 'passed' }],
      },
    ],
    recommendations: [],
    findings,
    sarifKey: `intents/${intentId}/reports/validation.sarif`,
  });
}

const dynamic = DynamicReport.parse({
  schemaVersion: 1,
  layer: 'dynamic',
  intentId,
  generatedAt: '2026-03-04T05:06:07.000Z',
  outcome: 'failed',
  run: {
    driver: 'bubblewrap',
    status: 'completed',
    steps: [],
    tests: {
      passed: 4,
      failed: 1,
      skipped: 0,
      failures: [{ name: `greets politely ${HOSTILE}`, excerpt: `expected hi ${ESCAPES}` }],
    },
    limitHits: [],
    missingDependencies: [],
    durationMs: 1200,
    startupMs: 50,
    resources: {},
  },
  findings: [],
});

const context = (version: number): DropContext => ({
  intentId,
  gate: 'release',
  version,
  createdAt: '2026-03-04T05:06:07.000Z',
  plan,
  validation: {
    typecheck: { status: 'passed', filesChecked: 3, errorCount: 0, firstErrors: [] },
    reportKey: `intents/${intentId}/reports/validation.json`,
    dynamic: {
      status: 'assessed',
      reportKey: `intents/${intentId}/reports/dynamic.json`,
      driver: 'bubblewrap',
      outcome: 'failed',
      tests: { passed: 4, failed: 1, skipped: 0 },
      limitHits: [],
      durationMs: 1200,
      problems: [],
      startupMs: 50,
    },
    score: {
      verdict: 'failed',
      reasons: ['security score 60 is below the threshold 70'],
      scores: { overall: 72, security: 60, quality: 90, compliance: null },
      counts: { critical: 0, high: 1, medium: 1, low: 1, info: 0 },
      reportKey: `intents/${intentId}/reports/validation-report.json`,
      sarifKey: `intents/${intentId}/reports/validation.sarif`,
      topRecommendations: [],
      digest: { files: 'a'.repeat(64), report: 'b'.repeat(64), review: 'c'.repeat(64) },
    },
  },
  usage: {
    calls: 3,
    cachedCalls: 1,
    promptTokens: 1000,
    completionTokens: 500,
    costUsd: 0.0123,
    cached: false,
    offline: false,
  },
});

const findings = [
  finding('low', 'src/app.ts', 2, 'magic number'),
  finding('high', 'src/app.ts', 1, 'template literal reaches the response', 'xss'),
  finding('medium', 'src/new.ts', 1, 'unused export'),
];

const sources = (overrides: Partial<DropSources> = {}): DropSources => ({
  current: v2,
  previous: v1,
  report: report(findings),
  dynamic,
  ...overrides,
});

test('version 1 diffs against nothing: every file is added, with its whole content as + lines', async () => {
  const { changes, summary } = await diffVersions([], v1);
  expect(changes.map((c) => [c.path, c.status])).toEqual([
    ['README.md', 'added'],
    ['assets/logo.png', 'added'],
    ['src/app.ts', 'added'],
    ['src/old.ts', 'added'],
  ]);
  const app = changes.find((c) => c.path === 'src/app.ts')!;
  expect(app.diff).toBe(
    '--- /dev/null\n+++ b/src/app.ts\n@@ -0,0 +1,2 @@\n' +
      '+export const greet = (name: string) => `hello ${name}`;\n+export const port = 3000;\n',
  );
  expect(app).toMatchObject({ before: null, after: v1[1]!.sha256, additions: 2, deletions: 0 });
  expect(changes.find((c) => c.path === 'assets/logo.png')).toMatchObject({ binary: true, diff: '', additions: null });
  expect(summary).toEqual({
    files: 4,
    added: 4,
    modified: 0,
    removed: 0,
    unchanged: 0,
    additions: 4,
    deletions: 0,
    cut: [],
  });

  const drop = await buildQuantumDrop(context(1), sources({ current: v1, previous: undefined }));
  expect(drop.previousVersion).toBeNull();
  expect(drop.changeSummary.added).toBe(4);
});

test('version 2 against version 1: added, modified and removed files, unchanged ones only counted', async () => {
  const { changes, summary } = await diffVersions(v1, v2);
  expect(changes.map((c) => [c.path, c.status])).toEqual([
    ['assets/logo.png', 'modified'],
    ['src/app.ts', 'modified'],
    ['src/new.ts', 'added'],
    ['src/old.ts', 'removed'],
  ]);
  const byPath = Object.fromEntries(changes.map((c) => [c.path, c]));
  expect(byPath['src/app.ts']!.diff).toBe(
    '--- a/src/app.ts\n+++ b/src/app.ts\n@@ -1,2 +1,2 @@\n' +
      '-export const greet = (name: string) => `hello ${name}`;\n' +
      '+export const greet = (name: string) => `hi ${name}`;\n' +
      ' export const port = 3000;\n',
  );
  expect(byPath['src/old.ts']).toMatchObject({
    diff: '--- a/src/old.ts\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-export const legacy = true;\n',
    before: v1[2]!.sha256,
    after: null,
    deletions: 1,
  });
  expect(byPath['src/new.ts']!.diff).toBe(
    '--- /dev/null\n+++ b/src/new.ts\n@@ -0,0 +1,1 @@\n+export const fresh = 1;\n',
  );
  expect(byPath['assets/logo.png']).toMatchObject({ binary: true, diff: '' });
  expect(summary).toMatchObject({
    files: 4,
    added: 1,
    modified: 2,
    removed: 1,
    unchanged: 1,
    additions: 2,
    deletions: 2,
  });

  const drop = QuantumDrop.parse(await buildQuantumDrop(context(2), sources()));
  expect(drop.previousVersion).toBe(1);
  expect(drop.reviewDigest).toBe('c'.repeat(64));
  expect(drop.cost).toEqual({
    calls: 3,
    cachedCalls: 1,
    tokens: 1500,
    promptTokens: 1000,
    completionTokens: 500,
    costUsd: 0.0123,
    offline: false,
  });
  // Findings most severe first, each with file:line; tests from layer 2's report; coverage from the report.
  expect(drop.validation.findings.map((f) => [f.severity, f.path, f.line])).toEqual([
    ['high', 'src/app.ts', 1],
    ['medium', 'src/new.ts', 1],
    ['low', 'src/app.ts', 2],
  ]);
  expect(drop.validation).toMatchObject({
    verdict: 'failed',
    findingsTotal: 3,
    counts: { high: 1, medium: 1, low: 1 },
    tests: { status: 'ran', passed: 4, failed: 1, skipped: 0 },
    reportKey: `intents/${intentId}/reports/validation-report.json`,
    dynamicReportKey: `intents/${intentId}/reports/dynamic.json`,
  });
  expect(drop.validation.coverage?.map((r) => [r.id, r.status])).toEqual([['R1', 'covered']]);
});

test('diffs are bounded per file, in total and in CPU, and every cut is said', async () => {
  const limits: DropLimits = {
    ...DROP_LIMITS,
    diffBytesPerFile: 1024,
    diffBytesTotal: 1500,
    diffInputBytes: 8 * 1024,
    maxEditLength: 50,
    diffWork: 40,
  };
  const before = [
    file('b-rewritten.ts', lines('x', 60)),
    file('c-huge.ts', lines('h', 10)),
    file('d-small.ts', 'one\n'),
    file('e-later.ts', lines('e', 40)),
  ];
  const after = [
    file('a-long.ts', lines('new', 200)),
    file('b-rewritten.ts', lines('y', 60)),
    file('c-huge.ts', lines('huge', 2000)),
    file('d-small.ts', 'two\n'),
    file('e-later.ts', lines('e', 40).replace('e 20\n', 'E 20\n')),
  ];
  const { changes, summary } = await diffVersions(before, after, limits);
  const byPath = Object.fromEntries(changes.map((c) => [c.path, c]));

  // Cut at a line inside 1 KiB, with the lines left out counted; the counts cover the whole diff.
  const long = byPath['a-long.ts']!;
  expect(Buffer.byteLength(long.diff)).toBeLessThanOrEqual(1024);
  expect(long.diff.endsWith('\n')).toBe(true);
  expect(long).toMatchObject({ additions: 200, deletions: 0 });
  const shownLines = long.diff.split('\n').length - 1;
  expect(long.truncated).toEqual({
    omittedLines: 3 + 200 - shownLines, // file headers, hunk header and 200 added lines
    reason: 'cut at 1 KiB, the most diff shown per file',
  });
  // 120 changed lines exceed maxEditLength: not diffed, and the attempt spends the CPU budget.
  expect(byPath['b-rewritten.ts']).toMatchObject({
    diff: '',
    additions: null,
    notAssessed: 'more than 50 changed lines: too many to diff here',
  });
  expect(byPath['c-huge.ts']!.notAssessed).toMatch(/^too large to diff \(\d+ bytes; the limit is 8 KiB\)$/);
  // The budget of changed lines is spent: later modified files are not diffed.
  expect(byPath['d-small.ts']!.notAssessed).toBe(
    "not diffed: earlier files used the drop's budget of 40 changed lines",
  );
  expect(byPath['e-later.ts']!.notAssessed).toBe(
    "not diffed: earlier files used the drop's budget of 40 changed lines",
  );
  expect(summary.cut).toEqual([
    '1 file: diff cut at 1 KiB',
    '1 file not diffed: larger than 8 KiB',
    '1 file not diffed: more than 50 changed lines',
    '2 files not diffed: the budget of 40 changed lines was spent',
  ]);

  // The total: once 1500 bytes are shown, later diffs are cut to what is left, then left out.
  const many = Array.from({ length: 5 }, (_, i) => file(`f${i}.ts`, lines(`f${i}`, 80)));
  const shown = await diffVersions([], many, limits);
  const total = shown.changes.reduce((sum, c) => sum + Buffer.byteLength(c.diff), 0);
  expect(total).toBeLessThanOrEqual(1500);
  expect(shown.changes.slice(0, 2).every((c) => c.truncated === undefined)).toBe(true);
  expect(shown.changes.at(-1)).toEqual(
    expect.objectContaining({
      diff: '',
      additions: 80,
      truncated: { omittedLines: 83, reason: 'cut: earlier files used the 1500 bytes of diff a drop shows' },
    }),
  );
  expect(shown.summary.cut).toEqual(['3 files: diff cut or left out once 1500 bytes of diff was shown']);
});

test('the same inputs give the same bytes, whatever order the files come in', async () => {
  const first = dropDocuments(await buildQuantumDrop(context(2), sources()));
  const second = dropDocuments(
    await buildQuantumDrop(context(2), sources({ current: [...v2].reverse(), previous: [...v1].reverse() })),
  );
  expect(second.json.equals(first.json)).toBe(true);
  expect(second.html.equals(first.html)).toBe(true);
  expect(QuantumDrop.safeParse(JSON.parse(first.json.toString('utf8'))).error).toBeUndefined();
});

describe('hostile generated content', () => {
  const hostileFiles = [
    file(`src/${HOSTILE.slice(0, 30)}.ts`, `// ${HOSTILE}\nconst banner = "${ESCAPES}";\n\tindented();\r\n`),
    file('src/page.html', `<html><body><pre>${HOSTILE}</pre><script>steal()</script></body></html>\n`),
  ];
  const hostileDrop = () =>
    buildQuantumDrop(
      { ...context(1), plan: { ...plan, projectName: `ledger ${HOSTILE}`, planner: HOSTILE } },
      sources({
        current: hostileFiles,
        previous: undefined,
        report: report([finding('critical', 'src/page.html', 1, `reflected ${HOSTILE} ${ESCAPES}`, `rule${HOSTILE}`)]),
      }),
    );

  test('the HTML page escapes every string: no script, no markup or controls from the drop, only its own tags', async () => {
    const drop = await hostileDrop();
    const html = dropDocuments(drop).html.toString('utf8');
    expect(html).not.toMatch(/<script/i);
    // Escaped text may read `src=`; no tag of the page carries a handler, a source or a link.
    const tagsWithAttributes = [...html.matchAll(/<[^>]*>/g)].map((m) => m[0]);
    expect(tagsWithAttributes.filter((tag) => /\s(on\w+|src|href|action|formaction)\s*=/i.test(tag))).toEqual([]);
    // eslint-disable-next-line no-control-regex -- no control character but line breaks reaches the page
    expect(html).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );
    // Each diff is one <pre> the content cannot close: as many openings as closings as diffs.
    expect(html.match(/<pre/g)).toHaveLength(2);
    expect(html.match(/<\/pre>/g)).toHaveLength(2);
    expect(html).toContain('&lt;/pre&gt;&lt;script&gt;steal()&lt;/script&gt;');
    expect(html).toContain('<span class="add">+// &lt;script&gt;alert(1)&lt;/script&gt;&lt;/pre&gt;');
    expect(html).toContain('<span class="add">+    indented();</span>');
    // The finding, with its place, and the failing test are on the page, escaped.
    expect(html).toContain('src/page.html:1');
    expect(html).toContain('reflected &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('greets politely &lt;script&gt;');
    // The only tags are the page's own.
    const tags = [...html.matchAll(/<\/?([a-zA-Z0-9!]+)/g)].map((m) => m[1]!.toLowerCase());
    const own =
      /^(!doctype|html|head|meta|title|style|body|main|h[123]|p|dl|dt|dd|ul|li|table|thead|tbody|tr|th|td|br|span|strong|pre)$/;
    expect(tags.filter((tag) => !own.test(tag))).toEqual([]);
  });

  test('the JSON keeps the diff as generated (a reviewer can apply it); the terminal shows escapes, never obeys them', async () => {
    const drop = await hostileDrop();
    const json = JSON.parse(dropDocuments(drop).json.toString('utf8')) as QuantumDrop;
    expect(json.changes.find((c) => c.path.endsWith('.ts'))!.diff).toContain(ESCAPES);

    for (const color of [false, true]) {
      const text = renderDrop(json, { color });
      // Colour (SGR) sequences of the CLI's own are the only escapes left.
      const withoutColours = text.replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex
      expect(withoutColours).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]/); // eslint-disable-line no-control-regex
      expect(withoutColours).toContain('\\x1b[2K\\x0d\\x1b]0;pwned\\x07\\x9b31m\\u202eevil');
      expect(withoutColours).toContain('+\tindented();');
      expect(withoutColours).toContain('src/page.html:1');
    }
    expect(renderDrop(json, { color: true })).toContain('\x1b[32m+// <script>');
  });
});
