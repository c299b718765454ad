import { readArchive } from '../../capsule/archive-reader';
import { call, decide } from '../support/api';
import { json, ScriptedLlm, type RecordedRequest } from '../support/scripted-llm';
import { openStack, type RunningWorker, type TestStack } from '../support/stack';
import { untilStatus } from '../support/where';
import { llmConfig, providerFor, startLlmWorker } from './llm-stack';
import { greeterFiles, greeterResponder } from './scripted-project';

// The agents' repair loop over the scripted provider: the first codegen answer makes the project's own
// test fail in the sandbox; the agents get the failure and the second answer fixes it, in round 1.

let stack: TestStack;
let llm: ScriptedLlm;
let worker: RunningWorker;

beforeAll(async () => {
  stack = await openStack('repair-loop', (config) => ({ ...config, gate: { ...config.gate, repairRounds: 2 } }));
  llm = await ScriptedLlm.start();
  worker = await startLlmWorker(stack, llmConfig([providerFor(llm)]));
});

afterAll(async () => {
  await worker?.stop();
  await llm?.close();
  await stack?.close();
});

/** greet() as the first answer writes it: the test expects "Hello, Ada!", this says "Hi, Ada". */
const buggyCodegen = {
  ...greeterFiles.files_codegen!,
  files: greeterFiles.files_codegen!.files.map((file) =>
    file.path === 'src/greet.ts'
      ? { ...file, content: "export function greet(name: string): string {\n  return 'Hi, ' + name;\n}\n" }
      : file,
  ),
};

/** The fix, written unlike the shared greeter's file: the LLM cache is shared by the run, keyed by the prompt. */
const fixedCodegen = {
  ...greeterFiles.files_codegen!,
  files: greeterFiles.files_codegen!.files.map((file) =>
    file.path === 'src/greet.ts'
      ? { ...file, content: 'export function greet(name: string): string {\n  return `Hello, ${name}!`;\n}\n' }
      : file,
  ),
};

const schemaOf = (request: RecordedRequest) => request.body.response_format?.json_schema?.name ?? '';

test('a failing test is fixed in repair round 1: the failure reaches the agent, validation passes, rounds are in the status and the capsule', async () => {
  const answer = greeterResponder();
  let codegenCalls = 0;
  llm.responder = (request) => {
    if (schemaOf(request) !== 'files_codegen') return answer(request);
    codegenCalls += 1;
    return json(codegenCalls === 1 ? buggyCodegen : fixedCodegen);
  };

  const submitted = await call(`${stack.apiUrl}/intents`, { body: { text: 'Build a greeter library, repair case' } });
  expect(submitted.status).toBe(202);
  const id = submitted.body.id as string;
  const atGate = await untilStatus<any>(stack, id, ['AWAITING_APPROVAL', 'FAILED', 'REJECTED']);
  expect(atGate.status).toBe('AWAITING_APPROVAL');

  // Round 1 ran and stopped validation's failures: the sandbox's tests pass now.
  const rounds = atGate.validation.repairRounds;
  expect(rounds).toHaveLength(1);
  expect(rounds[0].round).toBe(1);
  expect(rounds[0].tasks).toEqual(expect.arrayContaining(['core', 'tests']));
  expect(rounds[0].failures.join('\n')).toContain('greets by name');
  expect(atGate.validation.dynamic).toMatchObject({ status: 'assessed', outcome: 'passed' });

  // What the codegen agent was given in round 1: its previous file and the failing test with its output.
  const codegen = llm.requests.filter((r) => schemaOf(r) === 'files_codegen');
  expect(codegen).toHaveLength(2);
  const revision = codegen[1]!.body.messages.at(-1)!.content;
  expect(revision).toContain('Revision r1');
  expect(revision).toContain("return 'Hi, ' + name;");
  expect(revision).toContain('greets by name');

  // Each round is a durable step of its own in the Web UI: new task children.
  const child = await stack.temporal.workflow.getHandle(`intent-${id}/task-core-r1`).describe();
  expect(child.status.name).toBe('COMPLETED');

  expect((await decide(stack.apiUrl, id, { decision: 'approve' }, stack.keys.approver)).status).toBe(200);
  const done = await untilStatus<any>(stack, id, ['COMPLETED', 'FAILED']);
  expect(done.status).toBe('COMPLETED');
  const download = await fetch(`${stack.apiUrl}/capsules/${done.capsule.id}/download`, {
    headers: { authorization: `Bearer ${stack.keys.approver}` },
  });
  const entries = await readArchive(Buffer.from(await download.arrayBuffer()));
  const manifest = JSON.parse(entries.find((e) => e.path === 'capsule.json')!.content.toString('utf8'));
  expect(manifest.validation.repairRounds).toEqual([expect.objectContaining({ round: 1 })]);
  const greet = entries.find((e) => e.path === 'files/src/greet.ts')!.content.toString('utf8');
  expect(greet).toContain('`Hello, ${name}!`');
});
