import type { GeneratedFile } from '../../generated-file';
import type { OfflineSpec } from '../catalogue';
import type { Operation } from '../intent-parameters';
import { entityModule, entityNames, sampleObject, storeModule } from './entity-code';
import { header } from './header';

const has = (spec: OfflineSpec, op: Operation) => spec.operations.includes(op);

/** Source files: entity, store, the HTTP app (routes for the requested operations only) and its entry point. */
export function restServiceCode(spec: OfflineSpec): GeneratedFile[] {
  const n = entityNames(spec.entity);
  const collectionMethods = [has(spec, 'list') && 'GET', has(spec, 'create') && 'POST'].filter(Boolean).join(', ');
  const itemMethods = [has(spec, 'read') && 'GET', has(spec, 'update') && 'PATCH', has(spec, 'delete') && 'DELETE']
    .filter(Boolean)
    .join(', ');
  const imports = [has(spec, 'create') && n.parseInput, has(spec, 'update') && n.parsePatch].filter(
    Boolean,
  ) as string[];
  const app = `${header(spec.kind)}import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
${imports.length ? `import { ${imports.join(', ')} } from './${n.module}';\n` : ''}import { ${n.store} } from './${n.storeModule}';

${has(spec, 'create') || has(spec, 'update') ? '/** Largest request body accepted, in bytes. */\nconst MAX_BODY = 1_000_000;\n' : ''}const COLLECTION = '/${n.route}';

/** The HTTP service: ${spec.operations.join(', ')} on ${n.pluralLabel}, JSON in and out. */
export function createApp(store: ${n.store} = new ${n.store}()): Server {
  return createServer((req, res) => {
    handle(store, req, res).catch((error: unknown) => {
      send(res, 500, { error: 'internal error', detail: error instanceof Error ? error.message : String(error) });
    });
  });
}

async function handle(store: ${n.store}, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\\/+$/, '');
  if (path === COLLECTION) {
${has(spec, 'list') ? "    if (req.method === 'GET') return send(res, 200, store.list());\n" : ''}${
    has(spec, 'create')
      ? `    if (req.method === 'POST') {
      const body = await readJson(req);
      if (!body.ok) return send(res, body.status, { errors: [body.error] });
      const input = ${n.parseInput}(body.value);
      if (!input.ok) return send(res, 400, { errors: input.errors });
      const created = store.create(input.value);
      return send(res, 201, created, { location: COLLECTION + '/' + created.id });
    }
`
      : ''
  }    return send(res, 405, { error: 'method not allowed' }, { allow: '${collectionMethods}' });
  }
${
  itemMethods
    ? `  if (!path.startsWith(COLLECTION + '/') || path.slice(COLLECTION.length + 1).includes('/')) {
    return send(res, 404, { error: 'not found' });
  }
  const id = decodeURIComponent(path.slice(COLLECTION.length + 1));
`
    : `  return send(res, 404, { error: 'not found' });
`
}${
    has(spec, 'read')
      ? `  if (req.method === 'GET') {
    const found = store.get(id);
    return found ? send(res, 200, found) : send(res, 404, { error: '${n.label} ' + id + ' not found' });
  }
`
      : ''
  }${
    has(spec, 'update')
      ? `  if (req.method === 'PATCH') {
    const body = await readJson(req);
    if (!body.ok) return send(res, body.status, { errors: [body.error] });
    const patch = ${n.parsePatch}(body.value);
    if (!patch.ok) return send(res, 400, { errors: patch.errors });
    const updated = store.update(id, patch.value);
    return updated ? send(res, 200, updated) : send(res, 404, { error: '${n.label} ' + id + ' not found' });
  }
`
      : ''
  }${
    has(spec, 'delete')
      ? `  if (req.method === 'DELETE') {
    return store.remove(id) ? send(res, 204) : send(res, 404, { error: '${n.label} ' + id + ' not found' });
  }
`
      : ''
  }${itemMethods ? `  return send(res, 405, { error: 'method not allowed' }, { allow: '${itemMethods}' });\n` : ''}}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, body === undefined ? headers : { 'content-type': 'application/json', ...headers });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}
${
  has(spec, 'create') || has(spec, 'update')
    ? `
type Body = { ok: true; value: unknown } | { ok: false; status: number; error: string };

/** The request body as JSON; refuses bodies over MAX_BODY and anything that is not JSON. */
async function readJson(req: IncomingMessage): Promise<Body> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return { ok: false, status: 413, error: 'body: larger than ' + MAX_BODY + ' bytes' };
    chunks.push(chunk as Buffer);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return { ok: false, status: 400, error: 'body: not valid JSON' };
  }
}
`
    : ''
}`;
  const main = `${header(spec.kind)}import { createApp } from './app';

const port = Number(process.env.PORT ?? ${spec.port});
createApp().listen(port, () => {
  console.log('${spec.projectName} listening on http://127.0.0.1:' + port + '/${n.route}');
});
`;
  return [
    entityModule(spec.kind, spec.entity),
    storeModule(spec.kind, spec.entity),
    { path: 'src/app.ts', content: app, language: 'typescript' },
    { path: 'src/main.ts', content: main, language: 'typescript' },
  ];
}

/** test/app.test.ts: real HTTP against the app on a free port, for each requested operation and the error paths. */
export function restServiceTests(spec: OfflineSpec): GeneratedFile[] {
  const n = entityNames(spec.entity);
  const sample = JSON.stringify(sampleObject(spec.entity));
  const other = JSON.stringify(sampleObject(spec.entity, 1));
  const first = spec.entity.fields[0]!;
  const tests: string[] = [];
  if (has(spec, 'create')) {
    tests.push(`test('POST creates a ${n.label} and answers 201 with its location', async () => {
  const response = await request('POST', '', sample);
  assert.equal(response.status, 201);
  const created = (await response.json()) as ${n.type};
  assert.deepEqual({ ...created, id: undefined }, { ...sample, id: undefined });
  assert.equal(response.headers.get('location'), '/${n.route}/' + created.id);
  assert.deepEqual(store.get(created.id), created);
});

test('POST refuses a body that misses fields or has unknown ones, naming each', async () => {
  const response = await request('POST', '', { unexpected: 1 });
  assert.equal(response.status, 400);
  const { errors } = (await response.json()) as { errors: string[] };
  assert.ok(errors.includes('unexpected: unknown field'));
${spec.entity.fields.map((f) => `  assert.ok(errors.includes('${f.name}: is required'));`).join('\n')}
});

test('POST refuses a body that is not JSON', async () => {
  const response = await fetch(base, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } });
  assert.equal(response.status, 400);
});`);
  }
  if (has(spec, 'read')) {
    tests.push(`test('GET /:id returns the ${n.label}, or 404 when there is none', async () => {
  const item = store.create(sample);
  const found = await request('GET', '/' + item.id);
  assert.equal(found.status, 200);
  assert.deepEqual(await found.json(), item);
  assert.equal((await request('GET', '/does-not-exist')).status, 404);
});`);
  }
  if (has(spec, 'list')) {
    tests.push(`test('GET lists every ${n.label}', async () => {
  const item = store.create(other);
  const response = await request('GET', '');
  assert.equal(response.status, 200);
  const items = (await response.json()) as ${n.type}[];
  assert.deepEqual(items, store.list());
  assert.ok(items.some((entry) => entry.id === item.id));
});`);
  }
  if (has(spec, 'update')) {
    tests.push(`test('PATCH changes the given fields only, and validates them', async () => {
  const item = store.create(sample);
  const patch = { ${first.name}: other.${first.name} };
  const response = await request('PATCH', '/' + item.id, patch);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { ...item, ...patch });
  const invalid = await request('PATCH', '/' + item.id, { ${first.name}: ${first.type === 'string' || first.type === 'date' ? '42' : "'not valid'"} });
  assert.equal(invalid.status, 400);
  assert.equal((await request('PATCH', '/' + item.id, {})).status, 400);
  assert.equal((await request('PATCH', '/does-not-exist', patch)).status, 404);
});`);
  }
  if (has(spec, 'delete')) {
    tests.push(`test('DELETE removes the ${n.label}; a second DELETE is 404', async () => {
  const item = store.create(sample);
  assert.equal((await request('DELETE', '/' + item.id)).status, 204);
  assert.equal(store.get(item.id), undefined);
  assert.equal((await request('DELETE', '/' + item.id)).status, 404);
});`);
  }
  tests.push(`test('unknown paths are 404', async () => {
  assert.equal((await fetch(base.replace('/${n.route}', '/nothing-here'))).status, 404);
});`);
  const body = tests.join('\n\n');
  const declarations = [
    /\bsample\b/.test(body) && `const sample: ${n.input} = ${sample};`,
    /\bother\b/.test(body) && `const other: ${n.input} = ${other};`,
  ].filter(Boolean);
  const content = `${header(spec.kind)}import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app';
import type { ${n.input}${tests.some((t) => t.includes(`as ${n.type}`)) ? `, ${n.type}` : ''} } from '../src/${n.module}';
import { ${n.store} } from '../src/${n.storeModule}';

const store = new ${n.store}();
const server = createApp(store);
let base = '';

${declarations.join('\n')}

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = 'http://127.0.0.1:' + (server.address() as AddressInfo).port + '/${n.route}';
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function request(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(base + path, {
    method,
    ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
}

${body}
`;
  return [{ path: 'test/app.test.ts', content, language: 'typescript' }];
}

export function restServiceUsage(spec: OfflineSpec): string[] {
  const n = entityNames(spec.entity);
  const sample = JSON.stringify(sampleObject(spec.entity));
  const routes = [
    has(spec, 'list') && `- \`GET /${n.route}\`: every ${n.label}`,
    has(spec, 'create') && `- \`POST /${n.route}\` with \`${sample}\`: 201 and the stored ${n.label}`,
    has(spec, 'read') && `- \`GET /${n.route}/:id\`: one ${n.label}, 404 if unknown`,
    has(spec, 'update') && `- \`PATCH /${n.route}/:id\` with any of the fields: the updated ${n.label}`,
    has(spec, 'delete') && `- \`DELETE /${n.route}/:id\`: 204`,
  ].filter(Boolean) as string[];
  return [
    `\`npm run build && node dist/src/main.js\` listens on \`PORT\` (default ${spec.port}). Data lives in memory.`,
    '',
    ...routes,
    '',
    'Invalid input is answered with 400 and `{"errors": ["field: reason", …]}`.',
  ];
}
