import type { GeneratedFile } from '../../generated-file';
import { hasFeature, type OfflineSpec } from '../catalogue';
import type { Operation } from '../intent-parameters';
import { entityModule, entityNames, sampleObject, storeModule } from './entity-code';
import { auditModule, authModule, encryptedStoreModule, fieldCryptoModule } from './features';
import { header } from './header';

const has = (spec: OfflineSpec, op: Operation) => spec.operations.includes(op);
const authenticated = (spec: OfflineSpec) => hasFeature(spec, 'authentication');
const audited = (spec: OfflineSpec) => hasFeature(spec, 'audit-logging');
const encrypted = (spec: OfflineSpec) => hasFeature(spec, 'encryption-at-rest');

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
  const auth = authenticated(spec);
  const audit = audited(spec);
  const options = [
    auth &&
      '  /** API token → the name it was issued to; a request without a known token is refused with 401. */\n  tokens?: TokenTable;',
    audit && '  /** Where every change is recorded (who, what, when). */\n  audit?: AuditLog;',
  ].filter(Boolean);
  const app = `${header(spec.kind)}import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
${audit ? "import { AuditLog } from './audit';\n" : ''}${auth ? "import { authenticate, type TokenTable } from './auth';\n" : ''}${imports.length ? `import { ${imports.join(', ')} } from './${n.module}';\n` : ''}import { ${n.store} } from './${n.storeModule}';

${has(spec, 'create') || has(spec, 'update') ? '/** Largest request body accepted, in bytes. */\nconst MAX_BODY = 1_000_000;\n' : ''}const COLLECTION = '/${n.route}';
${
  options.length
    ? `
export interface AppOptions {
${options.join('\n')}
}
`
    : ''
}
/** The HTTP service: ${spec.operations.join(', ')} on ${n.pluralLabel}, JSON in and out${auth ? ', for holders of an API token' : ''}${audit ? ', every change audited' : ''}. */
export function createApp(store: ${n.store}${encrypted(spec) ? '' : ` = new ${n.store}()`}${options.length ? ', options: AppOptions = {}' : ''}): Server {
${auth ? '  const tokens = options.tokens ?? new Map<string, string>();\n' : ''}${audit ? '  const audit = options.audit ?? new AuditLog();\n' : ''}  return createServer((req, res) => {
    handle(store, req, res${auth ? ', tokens' : ''}${audit ? ', audit' : ''}).catch((error: unknown) => {
      // The cause stays on the server: an error's message can disclose internals (CWE-209).
      console.error('request failed', error);
      send(res, 500, { error: 'internal error' });
    });
  });
}

async function handle(store: ${n.store}, req: IncomingMessage, res: ServerResponse${auth ? ', tokens: TokenTable' : ''}${audit ? ', audit: AuditLog' : ''}): Promise<void> {
${
  auth
    ? `  // Every request, before anything else: no valid bearer token, no access (fails closed without tokens).
  const principal = authenticate(req, tokens);
  if (!principal) return send(res, 401, { error: 'authentication required: send Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer' });
`
    : ''
}${audit ? `  const actor = ${auth ? 'principal.id' : "'anonymous'"};\n` : ''}  const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\\/+$/, '');
  if (path === COLLECTION) {
${has(spec, 'list') ? "    if (req.method === 'GET') return send(res, 200, store.list());\n" : ''}${
    has(spec, 'create')
      ? `    if (req.method === 'POST') {
      const body = await readJson(req);
      if (!body.ok) return send(res, body.status, { errors: [body.error] });
      const input = ${n.parseInput}(body.value);
      if (!input.ok) return send(res, 400, { errors: input.errors });
      const created = store.create(input.value);
${audit ? "      audit.record({ actor, action: 'create', target: COLLECTION + '/' + created.id, outcome: 201 });\n" : ''}      return send(res, 201, created, { location: COLLECTION + '/' + created.id });
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
    if (!updated) return send(res, 404, { error: '${n.label} ' + id + ' not found' });
${audit ? "    audit.record({ actor, action: 'update', target: COLLECTION + '/' + id, outcome: 200 });\n" : ''}    return send(res, 200, updated);
  }
`
      : ''
  }${
    has(spec, 'delete')
      ? `  if (req.method === 'DELETE') {
    if (!store.remove(id)) return send(res, 404, { error: '${n.label} ' + id + ' not found' });
${audit ? "    audit.record({ actor, action: 'delete', target: COLLECTION + '/' + id, outcome: 204 });\n" : ''}    return send(res, 204);
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
  const mainOptions = [
    auth && 'tokens',
    audit && 'audit: new AuditLog((event) => console.log(JSON.stringify({ audit: event })))',
  ].filter(Boolean);
  const main = `${header(spec.kind)}import { createApp } from './app';
${audit ? "import { AuditLog } from './audit';\n" : ''}${auth ? "import { tokensFrom } from './auth';\n" : ''}${encrypted(spec) ? "import { FieldCipher } from './field-crypto';\n" : ''}import { ${n.store} } from './${n.storeModule}';

const port = Number(process.env.PORT ?? ${spec.port});
${
  encrypted(spec)
    ? `// Records are encrypted at rest: without a valid key the service does not start.
let cipher: FieldCipher;
try {
  cipher = FieldCipher.fromBase64(process.env.FIELD_ENCRYPTION_KEY ?? '');
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
`
    : ''
}
${
  auth
    ? `const tokens = tokensFrom(process.env.API_TOKENS ?? '');
if (tokens.size === 0) console.warn('API_TOKENS is empty: every request will be refused with 401');
`
    : ''
}createApp(new ${n.store}(${encrypted(spec) ? 'cipher' : ''})${mainOptions.length ? `, { ${mainOptions.join(', ')} }` : ''}).listen(port, () => {
  console.log('${spec.projectName} listening on http://127.0.0.1:' + port + '/${n.route}');
});
`;
  return [
    entityModule(spec.kind, spec.entity),
    ...(encrypted(spec)
      ? [encryptedStoreModule(spec.kind, n), fieldCryptoModule(spec.kind)]
      : [storeModule(spec.kind, spec.entity)]),
    ...(auth ? [authModule(spec.kind)] : []),
    ...(audit ? [auditModule(spec.kind)] : []),
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
  const response = await fetch(base, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json'${authenticated(spec) ? ', ...credentials' : ''} } });
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
  assert.equal((await fetch(base.replace('/${n.route}', '/nothing-here')${authenticated(spec) ? ', { headers: credentials }' : ''})).status, 404);
});`);
  if (authenticated(spec)) {
    tests.push(`test('a request without a bearer token is refused with 401 (authentication required)', async () => {
  const response = await fetch(base);
  assert.equal(response.status, 401);
  assert.equal(response.headers.get('www-authenticate'), 'Bearer');
  assert.equal((await fetch(base.replace('/${n.route}', '/nothing-here'))).status, 401);
});

test('a wrong or malformed bearer token is refused with 401 and changes nothing', async () => {
  const before = store.list().length;
  for (const authorization of ['Bearer ' + randomBytes(24).toString('hex'), 'Basic ' + TOKEN, TOKEN]) {
    const response = await fetch(base, {
      method: 'POST',
      body: JSON.stringify(${sample}),
      headers: { 'content-type': 'application/json', authorization },
    });
    assert.equal(response.status, 401);
  }
  assert.equal(store.list().length, before);
});`);
  }
  if (encrypted(spec)) {
    tests.push(`test('records are encrypted at rest: the stored form holds no field in clear, and reads back whole', async () => {
  const item = store.create(sample);
  const stored = store.storedForm(item.id)!;
  assert.equal(stored.id, item.id);
${spec.entity.fields
  .filter((f) => f.type === 'string')
  .map((f) => `  assert.ok(!stored.sealed.includes(String(sample.${f.name})), '${f.name} is not stored in clear');`)
  .join('\n')}
  assert.match(stored.sealed, /^v1\\./);
  assert.deepEqual(store.get(item.id), item);
});

test('encryption at rest is authenticated: a changed value or another key does not decrypt', () => {
  const sealed = cipher.seal('confidential');
  assert.equal(cipher.open(sealed), 'confidential');
  assert.notEqual(cipher.seal('confidential'), sealed, 'a fresh IV for every value');
  const parts = sealed.split('.');
  const data = Buffer.from(parts[3]!, 'base64url');
  data[0] = data[0]! ^ 1;
  assert.throws(() => cipher.open([parts[0], parts[1], parts[2], data.toString('base64url')].join('.')));
  assert.throws(() => new FieldCipher(randomBytes(32)).open(sealed));
  assert.throws(() => new FieldCipher(randomBytes(16)), /32 bytes/);
});`);
  }
  const mutation = (['create', 'update', 'delete'] as const).find((op) => has(spec, op));
  if (audited(spec) && mutation) {
    const actor = authenticated(spec) ? 'tester' : 'anonymous';
    const act = {
      create: `  const response = await request('POST', '', sample);
  assert.equal(response.status, 201);
  const id = ((await response.json()) as { id: string }).id;
  const expected = { actor: '${actor}', action: 'create', target: '/${n.route}/' + id, outcome: 201 };`,
      update: `  const id = store.create(sample).id;
  const response = await request('PATCH', '/' + id, { ${first.name}: other.${first.name} });
  assert.equal(response.status, 200);
  const expected = { actor: '${actor}', action: 'update', target: '/${n.route}/' + id, outcome: 200 };`,
      delete: `  const id = store.create(sample).id;
  const response = await request('DELETE', '/' + id);
  assert.equal(response.status, 204);
  const expected = { actor: '${actor}', action: 'delete', target: '/${n.route}/' + id, outcome: 204 };`,
    }[mutation];
    tests.push(`test('every change is written to the audit log with who, what and when; reads are not', async () => {
  const before = audit.list().length;
${act}
  const events = audit.list().slice(before);
  assert.equal(events.length, 1);
  const { at, ...event } = events[0]!;
  assert.deepEqual(event, expected);
  assert.ok(Math.abs(Date.parse(at) - Date.now()) < 60_000, 'the event is timestamped');
  assert.ok(Object.isFrozen(events[0]), 'recorded events cannot be edited');
  await request('GET', '/' + id);
  assert.equal(audit.list().length, before + 1);
});`);
  }
  const body = tests.join('\n\n');
  const declarations = [
    /\bsample\b/.test(body) && `const sample: ${n.input} = ${sample};`,
    /\bother\b/.test(body) && `const other: ${n.input} = ${other};`,
  ].filter(Boolean);
  const appOptions = [authenticated(spec) && "tokens: new Map([[TOKEN, 'tester']])", audited(spec) && 'audit'].filter(
    Boolean,
  );
  const content = `${header(spec.kind)}import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
${authenticated(spec) || encrypted(spec) ? "import { randomBytes } from 'node:crypto';\n" : ''}import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app';
${audited(spec) ? "import { AuditLog } from '../src/audit';\n" : ''}${encrypted(spec) ? "import { FieldCipher } from '../src/field-crypto';\n" : ''}import type { ${n.input}${tests.some((t) => t.includes(`as ${n.type}`)) ? `, ${n.type}` : ''} } from '../src/${n.module}';
import { ${n.store} } from '../src/${n.storeModule}';

${encrypted(spec) ? `// A fresh key per run: records are sealed with it before they are stored.\nconst cipher = new FieldCipher(randomBytes(32));\nconst store = new ${n.store}(cipher);` : `const store = new ${n.store}();`}
${
  authenticated(spec)
    ? `// A fresh token per run: the service accepts it as "tester".
const TOKEN = randomBytes(24).toString('hex');
const credentials = { authorization: 'Bearer ' + TOKEN };
`
    : ''
}${audited(spec) ? 'const audit = new AuditLog();\n' : ''}const server = createApp(store${appOptions.length ? `, { ${appOptions.join(', ')} }` : ''});
let base = '';

${declarations.join('\n')}

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = 'http://127.0.0.1:' + (server.address() as AddressInfo).port + '/${n.route}';
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

${
  authenticated(spec)
    ? `function request(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(base + path, {
    method,
    headers: { ...credentials, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}`
    : `function request(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(base + path, {
    method,
    ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
}`
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
    ...(authenticated(spec)
      ? [
          '',
          'Authentication: every request needs `Authorization: Bearer <token>`; tokens are issued in `API_TOKENS` as `name:token,name2:token2` (a request without a known token gets 401; with no tokens set, every request does).',
        ]
      : []),
    ...(encrypted(spec)
      ? [
          '',
          'Encryption at rest: every record is sealed with AES-256-GCM (a random IV per value) before it is stored, under the key in `FIELD_ENCRYPTION_KEY` (base64 of 32 random bytes, e.g. `openssl rand -base64 32`); without a valid key the service does not start.',
        ]
      : []),
    ...(audited(spec)
      ? [
          '',
          `Audit log: every change (create, update, delete) is recorded with who (${authenticated(spec) ? 'the token’s name' : '`anonymous`: no authentication was asked for'}), what, which record, the outcome and when, and written to stdout as a JSON line \`{"audit": {...}}\`.`,
        ]
      : []),
  ];
}
