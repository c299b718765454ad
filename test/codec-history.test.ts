import { execFile } from 'node:child_process';
import { createSecretKey, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ENCRYPTING_FAILURE_CONVERTER_PATH } from '../adapters/temporal/codec-data-converter';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../adapters/temporal/codec';
import type { Config } from '../config';
import type { ArtifactManifest, ArtifactRef } from '../contracts/artifacts';
import { ensureTool } from '../scripts/services/tools';
import { call, decide } from './support/api';
import {
  INTENT_TEXT,
  newKey,
  submitIntent,
  terminateRunning,
  uniqueTenant,
  waitForStatus,
} from './support/authz-helpers';
import { openStack, startWorker, type RunningWorker, type TestStack } from './support/stack';

// Payload encryption against the suite's real Temporal dev server: what the server stores is ciphertext
// (read raw, without the codec), the codec endpoint and the temporal CLI decode it with a credential, and
// a running intent survives a key rotation (old payloads decrypt, new ones carry the new key id).

type RawPayload = temporal.api.common.v1.IPayload;
type RawEvent = temporal.api.history.v1.IHistoryEvent;

const KEYS = { a: randomBytes(32), b: randomBytes(32) };

function withKeys(config: Config, ids: (keyof typeof KEYS)[], active: keyof typeof KEYS): Config {
  const keys = new Map(ids.map((id) => [id, createSecretKey(KEYS[id])] as const));
  return { ...config, codec: { ...config.codec, encryption: { activeKeyId: active, keys } } };
}

const quiet = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };

let stack: TestStack;
let rotated: TestStack | undefined;
let worker: RunningWorker | undefined;
let bundle: WorkflowBundleWithSourceMap;
/** A client without the codec: it sees what the Temporal server stores. */
let raw: Client;
let intent: { id: string; workflowId: string };
/** A tenant of this file's own (its quotas and intents touch no other test file), and its keys, one role each. */
const TENANT = uniqueTenant('codec');
let keys: Record<'submitter' | 'approver' | 'auditor', string>;

beforeAll(async () => {
  stack = await openStack('codec', (c) => withKeys(c, ['a'], 'a'));
  raw = new Client({ connection: stack.temporal.connection, namespace: stack.config.temporal.namespace });
  // As a worker process bundles it: failures' messages encoded (encrypted) inside the workflow sandbox too.
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    failureConverterPath: ENCRYPTING_FAILURE_CONVERTER_PATH,
    logger: quiet,
  });
  worker = await startWorker(stack, { workflowBundle: bundle });
  const key = async (role: 'submitter' | 'approver' | 'auditor') =>
    (await newKey(stack, TENANT, `codec-${role}`, [role])).key;
  keys = { submitter: await key('submitter'), approver: await key('approver'), auditor: await key('auditor') };
  intent = await submitIntent(stack, keys.submitter, { tenant: TENANT });
  await waitForStatus(stack, intent.id, keys.submitter, 'AWAITING_APPROVAL');
});

afterAll(async () => {
  await terminateRunning(stack, 'codec test finished');
  await worker?.stop();
  await rotated?.close();
  await stack?.close();
});

/** Every event of a workflow's history as the server returns it (no codec). */
async function rawEvents(workflowId: string): Promise<RawEvent[]> {
  const events: RawEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await raw.workflowService.getWorkflowExecutionHistory({
      namespace: stack.config.temporal.namespace,
      execution: { workflowId },
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
}

/** The intent's workflow and its task children (their ids are in the intent's history, in clear). */
async function histories(): Promise<Map<string, RawEvent[]>> {
  const main = await rawEvents(intent.workflowId);
  const children = main.flatMap(
    (e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId ?? [],
  );
  const all = new Map([[intent.workflowId, main]]);
  for (const child of children) all.set(child, await rawEvents(child));
  return all;
}

/** The payloads of events (with where they are), except search attributes and headers: codecs never encode those. */
function payloadsOf(node: unknown, path = '', out: { path: string; payload: RawPayload }[] = []) {
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return out;
  const candidate = node as RawPayload;
  if (candidate.metadata && typeof candidate.metadata === 'object' && 'encoding' in candidate.metadata) {
    out.push({ path, payload: candidate });
    return out;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'searchAttributes' || key === 'header') continue;
    payloadsOf(value, `${path}.${key}`, out);
  }
  return out;
}

/**
 * The SDK core's own bookkeeping in markers (a local activity's type, attempt and times; patch ids) is written
 * by the core, not through the codec; the local activity's result sits beside it, encrypted.
 */
const SDK_MARKER = /\.markerRecordedEventAttributes\.details\.(data|patch-data)\./;
const userPayloads = (events: RawEvent[]) => payloadsOf(events).filter(({ path }) => !SDK_MARKER.test(path));

const utf8 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const toJson = (p: RawPayload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});
const serialized = (events: RawEvent[]) =>
  Buffer.from(temporal.api.history.v1.History.encode({ events }).finish()).toString('latin1');

/** Lines of the generated files long enough to be their own: none may reach the server in clear. */
async function generatedLines(children: string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const child of children) {
    const ref = await stack.temporal.workflow.getHandle(child).result();
    const manifest = await stack.store.getJson<ArtifactManifest>((ref as ArtifactRef).manifestKey);
    for (const file of manifest.files) {
      const content = (await stack.store.getBuffer(file.key)).toString('utf8');
      lines.push(
        ...content
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => line.length >= 30)
          .slice(0, 3),
      );
    }
  }
  return lines;
}

test('the server holds ciphertext only: no intent text or generated code, every payload labelled with its key', async () => {
  const all = await histories();
  expect(all.size).toBeGreaterThan(1); // the intent and at least one task child
  const lines = await generatedLines([...all.keys()].filter((id) => id !== intent.workflowId));
  expect(lines.length).toBeGreaterThan(0);
  let count = 0;
  for (const [workflowId, events] of all) {
    const bytes = serialized(events);
    expect({ workflowId, clear: bytes.includes(INTENT_TEXT) }).toEqual({ workflowId, clear: false });
    for (const line of lines) expect({ workflowId, line, clear: bytes.includes(line) }).toMatchObject({ clear: false });
    const clearPayloads: string[] = [];
    for (const { path, payload } of userPayloads(events)) {
      count++;
      const metadata = payload.metadata!;
      if (utf8(metadata.encoding) === ENCRYPTED_ENCODING && utf8(metadata[KEY_ID_METADATA]) === 'a') continue;
      clearPayloads.push(`${path}: ${utf8(payload.data).slice(0, 120)}`);
    }
    expect({ workflowId, clearPayloads }).toEqual({ workflowId, clearPayloads: [] });
  }
  expect(count).toBeGreaterThan(10);
  // The Web UI's current details come from a query: its answer is encrypted by the worker too.
  const answer = await raw.workflowService.queryWorkflow({
    namespace: stack.config.temporal.namespace,
    execution: { workflowId: intent.workflowId },
    query: { queryType: '__temporal_workflow_metadata' },
  });
  expect(utf8(answer.queryResult?.payloads?.[0]?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
  // The Web UI summary (user metadata) is encoded by the client's codec in SDK 1.24: encrypted too.
  const started = all.get(intent.workflowId)![0]!;
  expect(utf8(started.userMetadata?.summary?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
});

test('failure messages are encrypted too: the history shows a placeholder, the codec client the reason', async () => {
  // Outside the offline catalogue: planning fails at once, with a reason the activity and the workflow carry.
  const refused = await submitIntent(stack, keys.submitter, {
    text: 'Compose a sonnet about autumn leaves',
    tenant: TENANT,
  });
  await waitForStatus(stack, refused.id, keys.submitter, 'FAILED');
  // Through the codec client the reason is there, as the API and Web UI users see it (and the run is closed).
  const error = await stack.temporal.workflow
    .getHandle(refused.workflowId)
    .result()
    .then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: Error },
    );
  const chain: string[] = [];
  for (let e: (Error & { cause?: unknown }) | undefined = error; e; e = e.cause as typeof e) chain.push(e.message);
  expect(chain.join(' | ')).toMatch(/outside the offline catalogue/);

  const events = await rawEvents(refused.workflowId);
  const failures = events.flatMap(
    (e) => e.activityTaskFailedEventAttributes?.failure ?? e.workflowExecutionFailedEventAttributes?.failure ?? [],
  );
  expect(failures.length).toBeGreaterThanOrEqual(2); // the activity's, and the workflow's
  const messages = (failure: temporal.api.failure.v1.IFailure | null | undefined): string[] =>
    failure ? [failure.message ?? '', ...messages(failure.cause)] : [];
  expect(new Set(failures.flatMap(messages))).toEqual(new Set(['Encoded failure']));
  const bytes = serialized(events);
  expect(bytes.includes('outside the offline catalogue')).toBe(false);
  expect(bytes.includes('sonnet')).toBe(false);
});

test('the codec endpoint decodes for an auditor, with CORS for the Web UI, and refuses without a credential', async () => {
  const codec = `${stack.apiUrl}/codec`;
  const events = await rawEvents(intent.workflowId);
  const payloads = userPayloads(events).map(({ payload }) => toJson(payload));
  const uiOrigin = new URL(stack.config.temporal.uiUrl).origin;
  const namespace = { 'x-namespace': stack.config.temporal.namespace };

  // The Web UI's preflight, without credentials, answered for its origin only.
  const preflight = (origin: string) =>
    fetch(`${codec}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-namespace',
      },
    });
  const allowed = await preflight(uiOrigin);
  expect(allowed.status).toBe(204);
  expect(allowed.headers.get('access-control-allow-origin')).toBe(uiOrigin);
  expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
  expect(allowed.headers.get('access-control-allow-methods')).toBe('POST');
  expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase().split(',')).toEqual(
    expect.arrayContaining(['authorization', 'content-type', 'x-namespace']),
  );
  expect((await preflight('https://elsewhere.example')).headers.get('access-control-allow-origin')).toBeNull();

  const anonymous = await call(`${codec}/decode`, { body: { payloads }, token: null, headers: { origin: uiOrigin } });
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
  expect(anonymous.headers.get('access-control-allow-origin')).toBe(uiOrigin); // the UI can read why
  expect((await call(`${codec}/decode`, { body: { payloads }, token: keys.submitter })).status).toBe(403);

  const decoded = await call(`${codec}/decode`, {
    body: { payloads },
    token: keys.auditor,
    headers: { ...namespace, origin: uiOrigin },
  });
  expect(decoded.status).toBe(200);
  expect(decoded.headers.get('cache-control')).toBe('no-store');
  expect(decoded.headers.get('access-control-allow-origin')).toBe(uiOrigin);
  expect(decoded.body.payloads).toHaveLength(payloads.length);
  const clear = decoded.body.payloads.map((p: { data: string }) => Buffer.from(p.data, 'base64').toString('utf8'));
  expect(clear.join('\n')).toContain(INTENT_TEXT);
  expect(clear).toContain(`"Intent: ${INTENT_TEXT}"`); // the Web UI summary
  expect(
    decoded.body.payloads.every((p: { metadata: Record<string, string> }) => p.metadata.encoding !== undefined),
  ).toBe(true);

  // Encoding is for approvers and admins (signals sent from the Web UI), and round-trips.
  const input = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: btoa('"hello"') };
  expect((await call(`${codec}/encode`, { body: { payloads: [input] }, token: keys.auditor })).status).toBe(403);
  const encoded = await call(`${codec}/encode`, { body: { payloads: [input] }, token: keys.approver });
  expect(encoded.status).toBe(200);
  expect(Buffer.from(encoded.body.payloads[0].metadata[KEY_ID_METADATA], 'base64').toString()).toBe('a');
  const back = await call(`${codec}/decode`, { body: encoded.body, token: keys.approver });
  expect(back.body.payloads).toEqual([input]);

  // Bad input names the field.
  const wrongNamespace = await call(`${codec}/decode`, {
    body: { payloads },
    token: keys.auditor,
    headers: { 'x-namespace': 'someone-else' },
  });
  expect(wrongNamespace.status).toBe(400);
  expect(wrongNamespace.body.errors).toEqual([{ field: 'header.x-namespace', reason: expect.any(String) }]);
  const notAList = await call(`${codec}/decode`, { body: { payloads: 'x' }, token: keys.auditor });
  expect(notAList.status).toBe(400);
  expect(notAList.body.errors[0].field).toBe('body.payloads');
  const tampered = { ...payloads[0]!, data: Buffer.from('not the ciphertext at all, long enough').toString('base64') };
  const refused = await call(`${codec}/decode`, {
    body: { payloads: [payloads[0], tampered] },
    token: keys.auditor,
  });
  expect(refused.status).toBe(422);
  expect(refused.body.errors).toEqual([{ field: 'body.payloads.1', reason: expect.stringMatching(/authentication/) }]);
});

test('the temporal CLI shows the history decoded through the codec endpoint (--codec-endpoint, --codec-auth)', async () => {
  const cli = await ensureTool('temporal', stack.config.toolsDir, { temporalPath: stack.config.temporal.cliPath });
  const { address, namespace } = stack.config.temporal;
  const show = (...extra: string[]) =>
    promisify(execFile)(
      cli,
      [
        'workflow',
        'show',
        '--address',
        address,
        '--namespace',
        namespace,
        '-w',
        intent.workflowId,
        '-o',
        'json',
        ...extra,
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
  // JSON output writes payloads as proto JSON: their data base64.
  const payloadText = (stdout: string) => {
    const texts: string[] = [];
    const walk = (node: unknown) => {
      if (!node || typeof node !== 'object') return;
      const { metadata, data } = node as { metadata?: unknown; data?: unknown };
      if (metadata && typeof data === 'string') texts.push(Buffer.from(data, 'base64').toString('utf8'));
      Object.values(node).forEach(walk);
    };
    walk(JSON.parse(stdout));
    return texts.join('\n');
  };
  const plain = await show();
  expect(payloadText(plain.stdout)).not.toContain(INTENT_TEXT);
  const decoded = await show('--codec-endpoint', `${stack.apiUrl}/codec`, '--codec-auth', `Bearer ${keys.auditor}`);
  expect(payloadText(decoded.stdout)).toContain(INTENT_TEXT);
  expect(payloadText(decoded.stdout)).toContain(`Intent: ${INTENT_TEXT}`);
});

test('rotation: with key b active, the intent finishes; a-payloads still decrypt, new ones carry b', async () => {
  // A redeploy: the worker and the API restart with b added and active; a stays listed for old payloads.
  await worker!.stop();
  worker = undefined;
  rotated = await openStack('codec-rotated', (c) => ({
    ...withKeys(c, ['a', 'b'], 'b'),
    temporal: { ...c.temporal, taskQueue: stack.config.temporal.taskQueue },
  }));
  worker = await startWorker(rotated, { workflowBundle: bundle });
  const approved = await decide(rotated.apiUrl, intent.id, { decision: 'approve' }, keys.approver);
  expect(approved.status).toBe(200);
  await waitForStatus(rotated, intent.id, keys.auditor, 'COMPLETED');
  // The SDK client with both keys reads the result the workflow wrote under b (and the run is closed).
  const result = await rotated.temporal.workflow.getHandle(intent.workflowId).result();
  expect(result).toBeDefined();

  const events = await rawEvents(intent.workflowId);
  const keyIds = new Set(userPayloads(events).map(({ payload }) => utf8(payload.metadata![KEY_ID_METADATA])));
  expect([...keyIds].sort()).toEqual(['a', 'b']);
  expect(serialized(events).includes(INTENT_TEXT)).toBe(false);
  // The rotated codec endpoint decodes the whole history; the old one (a only) cannot read b-payloads.
  const payloads = userPayloads(events).map(({ payload }) => toJson(payload));
  const decoded = await call(`${rotated.apiUrl}/codec/decode`, { body: { payloads }, token: keys.auditor });
  expect(decoded.status).toBe(200);
  expect(decoded.body.payloads.map((p: { data: string }) => atob(p.data)).join('\n')).toContain(INTENT_TEXT);
  const old = await call(`${stack.apiUrl}/codec/decode`, { body: { payloads }, token: keys.auditor });
  expect(old.status).toBe(422);
  expect(old.body.detail).toMatch(/key "b", which is not in PAYLOAD_ENCRYPTION_KEYS/);
});
