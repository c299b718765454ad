import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Activities } from '../activities';
import { createDropActivities } from '../activities/build-drop';
import { loadFiles, sha256, storeTaskFiles } from '../adapters/storage/artifacts';
import type { ArtifactRef } from '../contracts/artifacts';
import { QuantumDropView, type DropRef } from '../contracts/drop';
import type { Plan } from '../contracts/plan';
import { OFFLINE_USAGE } from '../contracts/usage';
import type { ValidationSummary } from '../contracts/validation';
import type { IntentView } from '../contracts/views';
import { fixedPlanner, task as plannedTask } from './support/agents';
import { call } from './support/api';
import { runQlp } from './support/cli-run';
import {
  createStackKeys,
  eventually,
  openStack,
  startWorker,
  type RunningWorker,
  type StackKeys,
  type TestStack,
} from './support/stack';

// QuantumDrops on the real stack: one intent runs to its gate, the buildDrop activity makes its drops from
// the real S3 objects (version 1, then a version 2 with a changed, a removed and an added file), and the
// API and `qlp review` serve them: JSON, a scriptless HTML page with the diff and the findings, tenant-scoped.

const TENANT = 'drops';
const OTHER = 'drops-other';
/** A line a generator could write: markup that must stay text on the page, and terminal escapes. */
const HOSTILE_LINE = '// </pre><script>alert(1)</script> \x1b[2K\x1b]0;pwned\x07';

let stack: TestStack;
let worker: RunningWorker;
let keys: StackKeys;
let otherKeys: StackKeys;
let intentId: string;
let v2: DropRef;
/** The file version 2 changes, removes and adds. */
let changed: string;
let removed: string;
const added = 'src/review-note.ts';

const url = (path: string) => `${stack.apiUrl}${path}`;

/** The generated project: a test that fails in the sandbox and TLS verification switched off (line 4). */
const project = [
  {
    path: 'package.json',
    content: JSON.stringify({
      name: 'loans',
      private: true,
      scripts: { test: 'tsc -p . && node --test dist/test/' },
      devDependencies: { typescript: '~5.9.3', '@types/node': '^20.19.0' },
    }),
  },
  {
    path: 'tsconfig.json',
    content: JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'commonjs', types: ['node'], strict: true, outDir: 'dist' },
      include: ['src', 'test'],
    }),
  },
  {
    path: 'src/loans.ts',
    content: 'export const overdue = (due: Date[], now: Date) => due.filter((d) => d.getTime() < now.getTime());\n',
  },
  {
    path: 'src/sync.ts',
    content: [
      "import https from 'node:https';",
      '',
      '// TLS verification switched off: the planted issue.',
      'export const agent = new https.Agent({ rejectUnauthorized: false });',
      '',
    ].join('\n'),
  },
  {
    path: 'test/loans.test.ts',
    content: [
      "import { test } from 'node:test';",
      "import { strictEqual } from 'node:assert';",
      "import { overdue } from '../src/loans';",
      "test('an overdue loan is listed', () => {",
      "  strictEqual(overdue([new Date('2026-01-01')], new Date('2026-02-01')).length, 2);",
      '});',
      '',
    ].join('\n'),
  },
];

beforeAll(async () => {
  stack = await openStack('drops');
  // The agent's output is the test's; everything after it (S3, validation with the sandbox, the workflow) is real.
  worker = await startWorker(stack, {
    planner: fixedPlanner(new Map([['a loans library', [plannedTask('module', [], 'codegen')]]])),
    wrapActivities: (activities: Activities): Activities => ({
      ...activities,
      runAgent: async (input) => ({
        ...(await storeTaskFiles(stack.store, input.intentId, input.task.id, project)),
        run: { attempt: 1, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString() },
      }),
    }),
  });
  keys = await createStackKeys(stack.db, 'drops', TENANT);
  otherKeys = await createStackKeys(stack.db, 'drops-other', OTHER);

  const submitted = await call(url('/intents'), {
    body: { text: 'a loans library' },
    token: keys.submitter,
  });
  expect(submitted.status).toBe(202);
  intentId = submitted.body.id;
  const waiting: IntentView = await eventually(async () => {
    const { body } = await call(url(`/intents/${intentId}`), { token: keys.submitter });
    return body.status === 'AWAITING_APPROVAL' ? body : undefined;
  }, `intent ${intentId} to reach its gate`);

  // What the workflow hands buildDrop, from the read model: the plan, validation and each task's artifact.
  const row = await stack.db.intent.findUniqueOrThrow({ where: { id: intentId }, include: { tasks: true } });
  const artifacts: ArtifactRef[] = row.tasks
    .filter((task) => task.artifactKey)
    .sort((a, b) => (a.taskId < b.taskId ? -1 : 1))
    .map((task) => ({ taskId: task.taskId, manifestKey: task.artifactKey!, fileCount: task.fileCount ?? 0, bytes: 0 }));
  const input = {
    intentId,
    gate: 'release' as const,
    createdAt: '2026-03-04T05:06:07.000Z',
    plan: row.plan as unknown as Plan,
    validation: row.validation as unknown as ValidationSummary,
    usage: OFFLINE_USAGE,
  };
  const { buildDrop } = createDropActivities(stack.store);
  // Version 1 is the workflow's once it builds drops at its gate; until then this test builds it.
  const v1 = waiting.gate?.drop ?? (await buildDrop({ ...input, version: 1, artifacts }));

  // Version 2: one task's output again, with a file changed (a hostile line added), one removed, one added.
  let task: ArtifactRef | undefined;
  let files: Awaited<ReturnType<typeof loadFiles>> = [];
  for (const candidate of artifacts) {
    files = await loadFiles(stack.store, [candidate]);
    task = candidate;
    if (files.filter((f) => f.path.endsWith('.ts')).length >= 2) break;
  }
  const text = files.filter((f) => f.path.endsWith('.ts'));
  changed = text[0]!.path;
  removed = text[1]!.path;
  const rewritten = files
    .filter((f) => f.path !== removed)
    .map((f) => ({
      path: f.path,
      content: f.path === changed ? `${HOSTILE_LINE}\n${f.content.toString('utf8')}` : f.content.toString('utf8'),
    }));
  rewritten.push({ path: added, content: 'export const note = "reviewed";\n' });
  const fix = await storeTaskFiles(stack.store, intentId, `${task!.taskId}-v2`, rewritten);
  const next = { ...input, version: v1.version + 1, previousArtifacts: artifacts };
  const nextArtifacts = artifacts.map((a) => (a === task ? fix : a));
  v2 = await buildDrop({ ...next, artifacts: nextArtifacts });
  // Idempotent: a retry writes the same bytes under the same key.
  expect(await buildDrop({ ...next, artifacts: nextArtifacts })).toEqual(v2);
});

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

test('buildDrop stores the JSON and the HTML under keys fixed by gate and version', async () => {
  expect(v2.key).toBe(`intents/${intentId}/drops/release-v${v2.version}.json`);
  const json = await stack.store.getBuffer(v2.key);
  expect(sha256(json)).toBe(v2.sha256);
  const html = await stack.store.stat(v2.key.replace(/\.json$/, '.html'));
  expect(html?.size).toBeGreaterThan(0);
});

test('GET /intents/:id/drops/release: the newest drop as JSON, with the diff since the last version and the findings', async () => {
  const response = await call(url(`/intents/${intentId}/drops/release`), { token: keys.submitter });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const drop = QuantumDropView.parse(response.body);
  expect(drop).toMatchObject({ intentId, gate: 'release', version: v2.version, previousVersion: v2.version - 1 });
  expect(drop.links).toEqual({
    self: `/api/v1/intents/${intentId}/drops/release`,
    html: `/api/v1/intents/${intentId}/drops/release?format=html`,
  });
  const status = Object.fromEntries(drop.changes.map((c) => [c.path, c.status]));
  expect(status).toEqual({ [changed]: 'modified', [removed]: 'removed', [added]: 'added' });
  const diff = drop.changes.find((c) => c.path === changed)!.diff;
  expect(diff).toContain(`--- a/${changed}\n+++ b/${changed}\n@@ -1,`);
  expect(diff).toContain(`+${HOSTILE_LINE}\n`);
  expect(drop.changeSummary).toMatchObject({ added: 1, modified: 1, removed: 1 });
  // Scores, findings, tests and coverage are the real validation's.
  const report = await call(url(`/intents/${intentId}/validation`), { token: keys.submitter });
  expect(drop.validation.scores).toEqual(report.body.scores);
  expect(drop.validation.findingsTotal).toBe(report.body.findings.length);
  expect(drop.validation.findings).toContainEqual(
    expect.objectContaining({ path: 'src/sync.ts', line: 4, severity: expect.stringMatching(/^(critical|high)$/) }),
  );
  expect(drop.validation.tests).toMatchObject({
    status: 'ran',
    failed: 1,
    failures: [expect.objectContaining({ name: 'an overdue loan is listed' })],
  });
  expect(drop.cost).toMatchObject({ calls: 0, offline: true });
});

test('the HTML page: the diff and the findings, escaped, with no script, served under a CSP that forbids one', async () => {
  const asked = [
    await fetch(url(`/intents/${intentId}/drops/release?format=html`), {
      headers: { authorization: `Bearer ${keys.submitter}` },
    }),
    await fetch(url(`/intents/${intentId}/drops/release`), {
      headers: { authorization: `Bearer ${keys.submitter}`, accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    }),
  ];
  const drop = QuantumDropView.parse(
    (await call(url(`/intents/${intentId}/drops/release`), { token: keys.submitter })).body,
  );
  for (const response of asked) {
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain(`<span class="add">+// &lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;`);
    expect(html).toContain(`<h3>${changed} (modified)</h3>`);
    expect(html).toContain(`<h3>${removed} (removed)</h3>`);
    expect(drop.validation.findings.length).toBeGreaterThan(0);
    for (const finding of drop.validation.findings) {
      expect(html).toContain(finding.line === null ? `${finding.path}` : `${finding.path}:${finding.line}`);
    }
    expect(html).toContain('<td>src/sync.ts:4</td>');
    expect(html).toContain('<td>an overdue loan is listed</td>');
    expect(html).toContain(`Findings (${drop.validation.findings.length} of ${drop.validation.findingsTotal}`);
  }
});

test("another tenant's reviewer gets 404; an unknown gate is a 400 naming path.gate; no drop yet is a 404", async () => {
  const other = await call(url(`/intents/${intentId}/drops/release`), { token: otherKeys.submitter });
  expect(other.status).toBe(404);
  expect(JSON.stringify(other.body)).not.toContain('drops/release-v');

  const gate = await call(url(`/intents/${intentId}/drops/plan`), { token: keys.submitter });
  expect(gate.status).toBe(400);
  expect(gate.body.errors).toEqual([{ field: 'path.gate', reason: "must be 'release' (the gate before packaging)" }]);

  const format = await call(url(`/intents/${intentId}/drops/release?format=pdf`), { token: keys.submitter });
  expect(format.status).toBe(400);
  expect(format.body.errors[0].field).toBe('query.format');

  const id = randomUUID();
  const row = await stack.db.intent.create({
    data: { id, tenant: TENANT, text: 'not gated yet', workflowId: `drops-not-gated-${id}` },
  });
  const none = await call(url(`/intents/${row.id}/drops/release`), { token: keys.submitter });
  expect(none.status).toBe(404);
  expect(none.body.detail).toBe(`intent ${row.id} has no QuantumDrop for its release gate yet`);
});

test('qlp review prints the drop and its diff, escaped; --html saves the page; --json prints the API answer', async () => {
  const api = stack.apiUrl.replace(/\/api\/v1$/, '');
  const qlp = (args: string[], cwd?: string) =>
    runQlp(['review', intentId, ...args, '--api', api, '--token', keys.submitter], {}, cwd);

  const printed = await qlp([]);
  expect(printed.stderr).toBe('');
  expect(printed.code).toBe(0);
  expect(printed.stdout).toContain(
    `QuantumDrop  release gate, version ${v2.version} (compared with version ${v2.version - 1})`,
  );
  expect(printed.stdout).toMatch(/^Findings: {4}/m);
  expect(printed.stdout).toContain(`--- a/${changed}`);
  // The generated escapes are shown, never sent to the terminal.
  expect(printed.stdout).toContain('+// </pre><script>alert(1)</script> \\x1b[2K\\x1b]0;pwned\\x07');
  expect(printed.stdout).not.toContain('\x1b');
  expect(printed.stdout).toMatch(new RegExp(`^ {2}D {2}${removed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));

  const dir = mkdtempSync(join(tmpdir(), 'qlp-review-'));
  try {
    const saved = await qlp(['--html', join(dir, 'review.html')]);
    expect(saved.code).toBe(0);
    const page = readFileSync(join(dir, 'review.html'), 'utf8');
    expect(page).toBe(
      (await stack.store.getBuffer(`intents/${intentId}/drops/release-v${v2.version}.html`)).toString('utf8'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const json = await runQlp(['--json', 'review', intentId, '--api', api, '--token', keys.submitter]);
  expect(json.code).toBe(0);
  expect(QuantumDropView.parse(JSON.parse(json.stdout)).version).toBe(v2.version);

  const unknown = await qlp(['--gate', 'plan']);
  expect(unknown.code).toBe(2);
});
