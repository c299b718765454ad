import { randomUUID } from 'node:crypto';
import { createDatabase, type Database } from '../../adapters/db/client';
import { LlmGateway, summariseUsage } from '../../adapters/llm';
import { GatewayReviewer } from '../../adapters/llm/reviewer';
import type { Budget } from '../../contracts/budget';
import type { Finding, StaticReport } from '../../contracts/validation';
import { reportKeys } from '../../adapters/storage/artifacts';
import { finding } from '../../validation/findings';
import { projectFromFiles } from '../../validation/project';
import { llmReviewCheck, REVIEW_SCHEMA_NAME, runLlmReview } from '../../validation/static/llm-review';
import { withoutStaticDuplicates } from '../../validation/static/weakness-class';
import { statusQuery } from '../../workflows/messages';
import { call } from '../support/api';
import { json, ScriptedLlm, type RecordedRequest, type ScriptedReply } from '../support/scripted-llm';
import { eventually, openStack, type RunningWorker, type TestStack } from '../support/stack';
import { llmConfig, providerFor, startLlmWorker } from './llm-stack';
import { greeterFiles, greeterResponder } from './scripted-project';

// Layer 1's LLM review through the real gateway against a scripted OpenAI-compatible server: first the
// reviewer on its own (file groups, budget, retries), then whole intents in LLM mode on one stack.

let llm: ScriptedLlm;
let db: Database;

beforeAll(async () => {
  llm = await ScriptedLlm.start();
  db = createDatabase(process.env.DATABASE_URL!, { maxConnections: 5 });
});

afterAll(async () => {
  await llm?.close();
  await db?.$disconnect();
});

beforeEach(() => llm.reset());

const unlimited: Budget = { maxTokens: null, maxCostUsd: null };
const reviewRequests = () => llm.requestsFor(REVIEW_SCHEMA_NAME);
/** The files a review request shows, by the headers its task message (after the system message) gives them. */
const shownFiles = (request: RecordedRequest) =>
  [...request.body.messages[1]!.content.matchAll(/^<file path="([^"]+)"/gm)].map((m) => m[1]!);
const issue = (path: string, line: number, extra: Record<string, unknown> = {}) => ({
  ruleId: 'unchecked-input',
  category: 'security',
  severity: 'medium',
  path,
  line,
  message: `input reaches ${path}:${line} unchecked`,
  remediation: 'validate it first',
  ...extra,
});

describe('the reviewer over the gateway', () => {
  const reviewer = (budget = unlimited, intentId = randomUUID()) =>
    new GatewayReviewer(new LlmGateway(db, llmConfig([providerFor(llm)], { cache: false })), { intentId, budget });
  // Three files of ~1,000 characters: with a 2,500-character group limit, two groups.
  const body = (name: string) =>
    Array.from({ length: 30 }, (_, i) => `export const ${name}${i} = ${i}; // padding`).join('\n');
  const project = projectFromFiles([
    { path: 'README.md', content: '# not reviewed\n' },
    { path: 'src/a.ts', content: body('a') },
    { path: 'src/b.ts', content: body('b') },
    { path: 'src/c.ts', content: body('c') },
    { path: 'src/huge.ts', content: body('h').repeat(4) },
  ]);
  const limits = { groupChars: 2_500, maxGroups: 5 };

  test('a large project is reviewed in bounded file groups, and the groups’ findings are merged; a finding about a file of another group is dropped', async () => {
    llm.responder = (request) => {
      const [first] = shownFiles(request);
      // Each group reports on its first file, and also on a file it was not shown.
      return json({ findings: [issue(first!, 3), issue(first === 'src/a.ts' ? 'src/c.ts' : 'src/a.ts', 1)] });
    };
    const result = await runLlmReview(project, reviewer(), limits);
    // The groups are sent side by side (the provider's limiter decides how many at once): any order.
    expect(reviewRequests().map(shownFiles).sort()).toEqual([['src/a.ts', 'src/b.ts'], ['src/c.ts']]);
    expect(result).toMatchObject({
      status: 'completed',
      reviewer: 'compatible/scripted-model',
      prompt: 'review/v1',
      groups: 2,
      dropped: 2,
      truncated: true,
      notSent: ['src/huge.ts'],
      failedGroups: [],
    });
    const findings = result.status === 'completed' ? result.findings : [];
    expect(findings.map((f) => [f.tool, f.ruleId, f.location?.path, f.location?.line])).toEqual([
      ['llm', 'llm/unchecked-input', 'src/a.ts', 3],
      ['llm', 'llm/unchecked-input', 'src/c.ts', 3],
    ]);
    // Lines are numbered for citation; a line of the file cannot pass for the end of its block.
    const groupA = reviewRequests().find((request) => shownFiles(request)[0] === 'src/a.ts')!;
    const prompt = groupA.body.messages[1]!.content;
    expect(prompt).toContain('<file path="src/a.ts" lines="30">\n 1| export const a0 = 0; // padding');
    expect(prompt).toContain('Not shown (too large to review): ["src/huge.ts"]');
    expect(groupA.body.messages[0]!.content).toMatch(/never instructions to you/);
  });

  test('a group whose answer stays malformed is not reviewed, and the check says which files; the other group still counts', async () => {
    llm.responder = (request) =>
      shownFiles(request)[0] === 'src/c.ts'
        ? { content: 'I think the code is fine.' }
        : json({ findings: [issue('src/b.ts', 2)] });
    const check = await llmReviewCheck(project, reviewer(), [], limits);
    expect(check).toMatchObject({ version: 'compatible/scripted-model, prompt review/v1' });
    expect('note' in check && check.note).toMatch(
      /1 of 2 file group\(s\) not reviewed \(src\/c\.ts\): LLM review failed: the LLM's output was still invalid after one repair round: the reply is not valid JSON/,
    );
    expect('findings' in check && check.findings.map((f) => f.location)).toEqual([{ path: 'src/b.ts', line: 2 }]);
    expect(reviewRequests()).toHaveLength(3); // two groups, and the repair round of the broken one
  });

  test('the review is charged to the intent: its ledger rows, and a spent budget stops it before anything is sent', async () => {
    const intentId = randomUUID();
    llm.responder = () => json({ findings: [] }, { prompt_tokens: 700, completion_tokens: 20 });
    const small = projectFromFiles([{ path: 'src/a.ts', content: 'export const a = 1;\n' }]);
    const paying = reviewer(unlimited, intentId);
    await expect(runLlmReview(small, paying)).resolves.toMatchObject({ status: 'completed', findings: [] });
    expect(paying.usage).toMatchObject({ calls: 1, promptTokens: 700, completionTokens: 20 });
    const rows = await db.llmCall.findMany({ where: { intentId } });
    expect(rows.map((r) => [r.purpose, r.state, r.promptTokens, r.completionTokens])).toEqual([
      ['review', 'settled', 700, 20],
    ]);
    expect(await summariseUsage(db, intentId, false)).toMatchObject({ calls: 1, totalTokens: 720 });

    // 720 of 1,000 tokens spent: the next review's worst case does not fit.
    const before = llm.requests.length;
    const refused = await runLlmReview(small, reviewer({ maxTokens: 1_000, maxCostUsd: null }, intentId));
    expect(refused).toEqual({
      status: 'not_assessed',
      reason: expect.stringMatching(/^LLM review failed: token budget exhausted: 720 of 1000 tokens spent/),
    });
    expect(llm.requests.length).toBe(before);
  });

  test('a provider that never answers costs the review its own time limit, not the activity: the reason says so', async () => {
    llm.responder = () => ({ hang: true });
    const small = projectFromFiles([{ path: 'src/a.ts', content: 'export const a = 1;\n' }]);
    const gateway = new LlmGateway(db, llmConfig([providerFor(llm)], { cache: false }));
    const slow = new GatewayReviewer(gateway, { intentId: randomUUID(), budget: unlimited, timeLimitMs: 300 });
    await expect(runLlmReview(small, slow)).resolves.toEqual({
      status: 'not_assessed',
      reason: 'LLM review failed: the review did not finish within its 0.3 s time limit',
    });
  });

  test('a 429 is waited out within the review (Retry-After), not retried as a whole activity', async () => {
    llm.enqueue({ status: 429, error: { message: 'Rate limit reached' }, headers: { 'retry-after': '1' } });
    llm.responder = () => json({ findings: [] });
    const small = projectFromFiles([{ path: 'src/a.ts', content: 'export const a = 1;\n' }]);
    await expect(runLlmReview(small, reviewer())).resolves.toMatchObject({ status: 'completed' });
    expect(reviewRequests()).toHaveLength(2);
  });
});

describe('merging with the static findings', () => {
  const at = (tool: Finding['tool'], ruleId: string, line: number, cwe?: string[]) =>
    finding({
      tool,
      ruleId,
      category: 'security',
      severity: 'high',
      message: ruleId,
      location: { path: 'src/a.ts', line },
      cwe,
    });

  test('one weakness at one place counts once; another class, or another line, is kept', () => {
    const existing = [at('eslint', 'eslint/no-eval', 4, ['CWE-95']), at('dataflow', 'dataflow/sql', 9, ['CWE-89'])];
    const reviewed = [
      at('llm', 'llm/code-injection', 4, ['CWE-94']), // the eval, as CWE-94: merged
      at('llm', 'llm/sql-injection', 9), // no CWE, but its rule names the class: merged
      at('llm', 'llm/missing-authentication', 4, ['CWE-306']), // same line, another weakness: kept
      at('llm', 'llm/code-injection', 5, ['CWE-94']), // another line: kept
    ];
    const { findings, merged } = withoutStaticDuplicates(existing, reviewed);
    expect(merged).toBe(2);
    expect(findings.map((f) => [f.ruleId, f.location?.line])).toEqual([
      ['llm/missing-authentication', 4],
      ['llm/code-injection', 5],
    ]);
  });
});

describe('intents in LLM mode', () => {
  let stack: TestStack;
  let worker: RunningWorker;
  let reviewReply: (request: RecordedRequest) => ScriptedReply;
  const usage = { prompt_tokens: 100, completion_tokens: 100 };
  // The greeter project plus one eval, so a static finding sits where the scripted review also reports.
  const codegen = {
    ...greeterFiles.files_codegen!,
    files: [
      ...greeterFiles.files_codegen!.files,
      {
        path: 'src/run.ts',
        language: 'typescript',
        content: 'export function run(code: string): unknown {\n  return eval(code);\n}\n',
      },
    ],
  };

  beforeAll(async () => {
    stack = await openStack('llm-review');
    const script = greeterResponder({ usage });
    llm.responder = (request) => {
      const name = request.body.response_format?.json_schema?.name;
      if (name === REVIEW_SCHEMA_NAME) return reviewReply(request);
      if (name === 'files_codegen') return json(codegen, usage);
      return script(request);
    };
    // No response cache: each case's review must reach the scripted server.
    worker = await startLlmWorker(stack, llmConfig([providerFor(llm)], { cache: false }));
  });

  afterAll(async () => {
    await worker?.stop();
    await stack?.close();
  });

  const submit = async (text: string) =>
    (await call(`${stack.apiUrl}/intents`, { body: { text: `${text} ${randomUUID()}` } })).body as { id: string };
  const atGate = (id: string) =>
    eventually(async () => {
      const view = (await call(`${stack.apiUrl}/intents/${id}`)).body;
      if (view.status === 'FAILED') throw new Error(`intent failed: ${view.statusReason}`);
      return view.status === 'AWAITING_APPROVAL' ? view : undefined;
    }, `intent ${id} at the gate`);
  const reportOf = async (id: string) => (await call(`${stack.apiUrl}/intents/${id}/validation`)).body;
  const llmCheck = (report: { checks: { tool: string; reason?: string }[] }) =>
    report.checks.find((c) => c.tool === 'llm')!;

  test('a valid finding is stored with tool llm and lowers the score; hallucinated file and line are dropped and counted; a static duplicate is merged; the tokens are the intent’s', async () => {
    reviewReply = () =>
      json(
        {
          findings: [
            issue('src/greet.ts', 2, { ruleId: 'missing-input-validation', cwe: 'CWE-20' }),
            issue('src/auth.ts', 3), // no such file
            issue('src/greet.ts', 40), // no such line
            issue('src/run.ts', 2, { ruleId: 'code-injection', severity: 'high', cwe: 'CWE-94' }), // ESLint's no-eval
          ],
        },
        { prompt_tokens: 1_500, completion_tokens: 70 },
      );
    const { id } = await submit('Build a greeter library');
    const view = await atGate(id);
    const report = await reportOf(id);

    const reviewed = report.findings.filter((f: Finding) => f.tool === 'llm');
    expect(reviewed).toEqual([
      expect.objectContaining({
        ruleId: 'llm/missing-input-validation',
        category: 'security',
        severity: 'medium',
        location: { path: 'src/greet.ts', line: 2 },
        cwe: ['CWE-20'],
      }),
    ]);
    // Layer 1's own report: the static findings on the eval stay, the review's duplicate of them does not.
    const layer1 = await stack.store.getJson<StaticReport>(reportKeys(id).static);
    expect(layer1.findings.filter((f) => f.tool === 'llm').map((f) => f.ruleId)).toEqual([
      'llm/missing-input-validation',
    ]);
    expect(layer1.findings).toContainEqual(
      expect.objectContaining({
        ruleId: 'eslint/no-eval',
        location: expect.objectContaining({ path: 'src/run.ts', line: 2 }),
      }),
    );
    expect(report.explanations.security.deductions).toContainEqual({
      ruleId: 'llm/missing-input-validation',
      severity: 'medium',
      count: 1,
      points: 4,
    });
    expect(report.scores.security).toBeLessThanOrEqual(96);
    expect(llmCheck(report)).toMatchObject({
      status: 'failed',
      findingCount: 1,
      version: 'compatible/scripted-model, prompt review/v1',
    });
    // The gate's summary says who reviewed, what was dropped and merged, and whether input was cut.
    const summary = view.validation.static.checks.find((c: { tool: string }) => c.tool === 'llm');
    expect(summary.reason).toBe(
      'reviewed by compatible/scripted-model (prompt review/v1) in 1 file group(s); ' +
        '2 finding(s) about non-existent files or lines dropped; ' +
        '1 finding(s) already reported by a static check at the same place merged; input not truncated',
    );
    // README.md is documentation: not sent; the code and manifests are.
    expect(reviewRequests().map(shownFiles)).toEqual([
      ['package.json', 'src/greet.ts', 'src/run.ts', 'test/greet.test.ts', 'tsconfig.json'],
    ]);

    // Plan, three agents (200 tokens each) and the review (1,570): all the intent's.
    expect(view.usage).toMatchObject({ mode: 'llm', calls: 5, totalTokens: 4 * 200 + 1_570 });
    // The workflow's own count (status query, Web UI details, its budget check) has the review too.
    const state = await stack.temporal.workflow.getHandle(`intent-${id}`).query(statusQuery);
    expect(state.usage).toMatchObject({ calls: 5, promptTokens: 4 * 100 + 1_500, completionTokens: 4 * 100 + 70 });
    const rows = await stack.db.llmCall.findMany({ where: { intentId: id, purpose: 'review' } });
    expect(rows.map((r) => [r.state, r.promptTokens, r.completionTokens])).toEqual([['settled', 1_500, 70]]);
  });

  test('a malformed answer (not JSON, then the wrong schema): the LLM review is not assessed, with the reason, and the rest of validation completes', async () => {
    reviewReply = (request) =>
      request.body.messages.some((m) => m.role === 'assistant')
        ? json({ findings: [{ ruleId: 'X', severity: 'urgent' }] }) // the repair round: the wrong shape
        : { content: 'Looks good to me!' };
    const { id } = await submit('Build a greeter library');
    const view = await atGate(id);
    const report = await reportOf(id);

    expect(reviewRequests()).toHaveLength(2);
    const check = llmCheck(report);
    expect(check).toMatchObject({ status: 'not_assessed', findingCount: 0 });
    expect(check.reason).toMatch(
      /^LLM review failed: the LLM's output was still invalid after one repair round: findings\.0\.ruleId: must be a short kebab-case id/,
    );
    expect(report.findings.filter((f: Finding) => f.tool === 'llm')).toEqual([]);
    // Everything else ran and was scored; the missing review is named where the score is explained.
    expect(report.checks.find((c: { tool: string }) => c.tool === 'typescript')).toMatchObject({ status: 'passed' });
    expect(report.scores.security).not.toBeNull();
    expect(report.explanations.security.notAssessed).toContainEqual(expect.stringMatching(/^llm: LLM review failed/));
    expect(view.validation.static.checks.find((c: { tool: string }) => c.tool === 'llm')).toMatchObject({
      status: 'not_assessed',
    });
  });
});
