import type { Capability } from '../../contracts/requirements';
import { buildContext } from '../../validation/compliance/ast';
import { detectCapability, keepsRecords, servesRequests } from '../../validation/coverage/detectors';
import { projectFromFiles } from '../../validation/project';

// The capability detectors look for the mechanism, not the word. Each capability has code that
// implements it and near misses that only look like it; tests are never implementation evidence.

const ctx = (files: Record<string, string>) =>
  buildContext(projectFromFiles(Object.entries(files).map(([path, content]) => ({ path, content }))));
const detect = (capability: Capability, files: Record<string, string>) =>
  detectCapability(ctx(files), capability).map((e) => `${e.path}:${e.line}`);

const cases: {
  capability: Capability;
  implemented: Record<string, string>;
  nearMisses: [string, Record<string, string>][];
}[] = [
  {
    capability: 'authentication',
    implemented: {
      'src/app.ts': [
        "import { createServer } from 'node:http';",
        'export const app = createServer((req, res) => {',
        "  if (req.headers.authorization !== 'Bearer ' + process.env.TOKEN) {",
        '    res.writeHead(401).end();',
        '    return;',
        '  }',
        '  res.end();',
        '});',
      ].join('\n'),
    },
    nearMisses: [
      [
        'a client that sends a token and reads a 401',
        {
          'src/client.ts': [
            'export async function fetchBooks(token: string) {',
            "  const response = await fetch('https://api.example.org/books', { headers: { authorization: 'Bearer ' + token } });",
            "  if (response.status === 401) throw new Error('token expired');",
            '  return response.json();',
            '}',
          ].join('\n'),
        },
      ],
      [
        'a 401 that checks no credential',
        {
          'src/app.ts':
            'export function handle(found: boolean, send: (s: number) => void) {\n  if (!found) return send(401);\n  send(200);\n}\n',
        },
      ],
      [
        'a credential check that only lives in a test',
        {
          'test/auth.test.ts':
            'export function guard(req: { headers: { authorization?: string } }, send: (s: number) => void) {\n  if (!req.headers.authorization) send(401);\n}\n',
        },
      ],
      [
        'a file named auth.ts with no check',
        { 'src/auth.ts': '// TODO: authentication\nexport const enabled = true;\n' },
      ],
    ],
  },
  {
    capability: 'authorization',
    implemented: {
      'src/guard.ts':
        'export function requireRole(role: string) {\n  return (req: { user?: { roles: string[] } }, res: { status(n: number): { end(): void } }, next: () => void) => {\n    if (!req.user?.roles.includes(role)) return res.status(403).end();\n    next();\n  };\n}\n',
    },
    nearMisses: [
      [
        'a 403 for a CSRF mismatch',
        {
          'src/csrf.ts':
            "export function csrf(req: { headers: Record<string, string> }, res: { status(n: number): { end(): void } }, token: string) {\n  if (req.headers['x-csrf'] !== token) return res.status(403).end();\n}\n",
        },
      ],
    ],
  },
  {
    capability: 'audit-logging',
    implemented: {
      'src/audit.ts': [
        'export class AuditLog {',
        '  private readonly events: { actor: string; action: string; at: string }[] = [];',
        '  record(actor: string, action: string) {',
        '    this.events.push({ actor, action, at: new Date().toISOString() });',
        '  }',
        '}',
      ].join('\n'),
      'src/service.ts': [
        "import { AuditLog } from './audit';",
        'export function rename(store: Map<string, string>, audit: AuditLog, user: string, id: string, name: string) {',
        '  store.set(id, name);',
        "  audit.record(user, 'rename');",
        '}',
      ].join('\n'),
    },
    nearMisses: [
      [
        'console logging of requests',
        {
          'src/app.ts':
            'export function handle(req: { method: string; url: string }) {\n  console.log({ method: req.method, url: req.url, at: Date.now() });\n}\n',
        },
      ],
      [
        'an audit record without an actor',
        {
          'src/audit.ts':
            "export const auditLog: object[] = [];\nexport function save(store: Map<string, string>, id: string) {\n  store.set(id, 'x');\n  auditLog.push({ action: 'save', at: Date.now() });\n}\n",
        },
      ],
      [
        'an audit log nobody writes on a change',
        {
          'src/audit.ts':
            'export class AuditTrail {\n  private events: object[] = [];\n  add(actor: string, action: string) {\n    this.events.push({ actor, action, at: Date.now() });\n  }\n}\n',
        },
      ],
    ],
  },
  {
    capability: 'encryption-at-rest',
    implemented: {
      'src/store.ts': [
        "import { createCipheriv, randomBytes } from 'node:crypto';",
        'function encryptField(value: string, key: Buffer): string {',
        '  const iv = randomBytes(12);',
        "  const cipher = createCipheriv('aes-256-gcm', key, iv);",
        "  const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);",
        "  return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64')).join('.');",
        '}',
        'export class RecordStore {',
        '  private rows = new Map<string, string>();',
        '  constructor(private key: Buffer) {}',
        '  save(id: string, ssn: string) {',
        '    this.rows.set(id, encryptField(ssn, this.key));',
        '  }',
        '}',
      ].join('\n'),
    },
    nearMisses: [
      [
        'ECB mode',
        {
          'src/store.ts':
            "import { createCipheriv } from 'node:crypto';\nexport class RecordStore {\n  rows = new Map<string, Buffer>();\n  save(id: string, v: string, key: Buffer) {\n    const c = createCipheriv('aes-256-ecb', key, null);\n    this.rows.set(id, Buffer.concat([c.update(v), c.final()]));\n  }\n}\n",
        },
      ],
      [
        'a hash is not encryption',
        {
          'src/store.ts':
            "import { createHash } from 'node:crypto';\nexport class RecordStore {\n  rows = new Map<string, string>();\n  save(id: string, v: string) {\n    this.rows.set(id, createHash('sha256').update(v).digest('hex'));\n  }\n}\n",
        },
      ],
      [
        'encrypting a message that is sent, never stored',
        {
          'src/send.ts':
            "import { createCipheriv, randomBytes } from 'node:crypto';\nexport function encryptMessage(text: string, key: Buffer) {\n  const c = createCipheriv('aes-256-gcm', key, randomBytes(12));\n  return Buffer.concat([c.update(text), c.final()]);\n}\nexport async function notify(text: string, key: Buffer) {\n  await fetch('https://example.org', { method: 'POST', body: encryptMessage(text, key) });\n}\n",
        },
      ],
    ],
  },
  {
    capability: 'hmac-verification',
    implemented: {
      'src/webhook.ts': [
        "import { createHmac, timingSafeEqual } from 'node:crypto';",
        'export function verify(body: string, signature: string, secret: string): boolean {',
        "  const expected = Buffer.from(createHmac('sha256', secret).update(body).digest('hex'));",
        '  const given = Buffer.from(signature);',
        '  return given.length === expected.length && timingSafeEqual(given, expected);',
        '}',
        "export const header = (h: Record<string, string>) => h['x-hub-signature-256'];",
      ].join('\n'),
    },
    nearMisses: [
      [
        'a signature compared with ===',
        {
          'src/webhook.ts':
            "import { createHmac } from 'node:crypto';\nexport function verify(body: string, signature: string, secret: string) {\n  return createHmac('sha256', secret).update(body).digest('hex') === signature;\n}\nexport const name = 'x-signature';\n",
        },
      ],
      [
        'signing outgoing requests',
        {
          'src/client.ts':
            "import { createHmac } from 'node:crypto';\nexport function signed(body: string, secret: string) {\n  return { 'x-signature': createHmac('sha256', secret).update(body).digest('hex') };\n}\n",
        },
      ],
      [
        'timingSafeEqual on passwords, no HMAC',
        {
          'src/login.ts':
            "import { timingSafeEqual } from 'node:crypto';\nexport function same(a: Buffer, signature: Buffer) {\n  return timingSafeEqual(a, signature);\n}\nexport const h = 'x-signature';\n",
        },
      ],
    ],
  },
  {
    capability: 'retries',
    implemented: {
      'src/send.ts': [
        'const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));',
        'export async function deliver(send: () => Promise<void>, maxAttempts = 3) {',
        '  for (let attempt = 1; ; attempt++) {',
        '    try {',
        '      return await send();',
        '    } catch (error) {',
        '      if (attempt >= maxAttempts) throw error;',
        '      await sleep(100 * 2 ** attempt);',
        '    }',
        '  }',
        '}',
      ].join('\n'),
    },
    nearMisses: [
      [
        'a loop that logs failures and moves on',
        {
          'src/batch.ts':
            'export async function all(jobs: (() => Promise<void>)[]) {\n  for (const job of jobs) {\n    try {\n      await job();\n    } catch (error) {\n      console.error(error);\n    }\n  }\n}\n',
        },
      ],
      [
        'polling without a failure path',
        {
          'src/poll.ts':
            'export function poll(check: () => boolean, attempts = 3) {\n  if (attempts > 0 && !check()) setTimeout(() => poll(check, attempts - 1), 100);\n}\n',
        },
      ],
    ],
  },
  {
    capability: 'rate-limiting',
    implemented: {
      'src/limit.ts': [
        'const hits = new Map<string, { count: number; start: number }>();',
        'export function limit(ip: string, send: (status: number) => void, windowMs = 60_000, max = 100): boolean {',
        '  const now = Date.now();',
        '  const entry = hits.get(ip) ?? { count: 0, start: now };',
        '  if (now - entry.start > windowMs) Object.assign(entry, { count: 0, start: now });',
        '  entry.count++;',
        '  hits.set(ip, entry);',
        '  if (entry.count > max) {',
        '    send(429);',
        '    return false;',
        '  }',
        '  return true;',
        '}',
      ].join('\n'),
    },
    nearMisses: [
      [
        'a 429 when a queue is full',
        {
          'src/queue.ts':
            'export function enqueue(queue: unknown[], job: unknown, send: (s: number) => void) {\n  if (queue.length > 100) return send(429);\n  queue.push(job);\n}\n',
        },
      ],
      [
        'a per-client counter that never refuses',
        {
          'src/stats.ts':
            'const seen = new Map<string, number>();\nexport function count(ip: string) {\n  seen.set(ip, (seen.get(ip) ?? 0) + 1);\n  return Date.now();\n}\n',
        },
      ],
    ],
  },
  {
    capability: 'input-validation',
    implemented: {
      'src/app.ts': [
        "import { parseBook } from './book';",
        'export function create(body: unknown, send: (status: number, body?: unknown) => void) {',
        '  const book = parseBook(body);',
        '  if (!book.ok) return send(400, { errors: book.errors });',
        '  send(201, book.value);',
        '}',
      ].join('\n'),
      'src/book.ts':
        "export function parseBook(input: unknown): { ok: true; value: object } | { ok: false; errors: string[] } {\n  return typeof input === 'object' && input ? { ok: true, value: input } : { ok: false, errors: ['not an object'] };\n}\n",
    },
    nearMisses: [
      [
        'parseInt and JSON.parse are not validators',
        {
          'src/app.ts':
            "export function limit(text: string) {\n  const n = parseInt(text, 10);\n  const o = JSON.parse(text) as unknown;\n  if (Number.isNaN(n)) throw new Error('nan');\n  return o;\n}\n",
        },
      ],
      [
        'a validator whose answer nobody checks',
        {
          'src/app.ts':
            'declare function validateBook(input: unknown): boolean;\nexport function create(body: unknown, save: (b: unknown) => void) {\n  validateBook(body);\n  save(body);\n}\n',
        },
      ],
    ],
  },
  {
    capability: 'tls',
    implemented: {
      'src/main.ts':
        "import https from 'node:https';\nimport { readFileSync } from 'node:fs';\nexport const server = https.createServer({ key: readFileSync('key.pem'), cert: readFileSync('cert.pem') }, (req, res) => res.end());\n",
    },
    nearMisses: [
      [
        'a plain HTTP server',
        { 'src/main.ts': "import http from 'node:http';\nhttp.createServer((req, res) => res.end()).listen(8080);\n" },
      ],
      [
        'an HTTPS client',
        {
          'src/client.ts':
            "import https from 'node:https';\nhttps.get('https://example.org', (res) => res.resume());\n",
        },
      ],
    ],
  },
];

describe.each(cases)('$capability', ({ capability, implemented, nearMisses }) => {
  test('found where it is implemented', () => {
    expect(detect(capability, implemented).length).toBeGreaterThan(0);
  });
  test.each(nearMisses)('near miss: %s', (_why, files) => {
    expect(detect(capability, files)).toEqual([]);
  });
});

test('the evidence points at the mechanism: file and line of the 401, the HMAC comparison', () => {
  expect(detect('authentication', cases[0]!.implemented)).toEqual(['src/app.ts:4']);
  expect(detect('hmac-verification', cases[4]!.implemented)).toEqual(['src/webhook.ts:5']);
});

test('where controls apply: a server answers requests, a store keeps records, a pure function does neither', () => {
  const server = ctx({
    'src/main.ts': "import http from 'node:http';\nhttp.createServer((q, s) => s.end()).listen(1);\n",
  });
  expect([servesRequests(server), keepsRecords(server)]).toEqual([true, false]);
  const store = ctx({ 'src/book-store.ts': 'export class BookStore {\n  items = new Map();\n}\n' });
  expect([servesRequests(store), keepsRecords(store)]).toEqual([false, true]);
  const pure = ctx({ 'src/add.ts': 'export const add = (a: number, b: number) => a + b;\n' });
  expect([servesRequests(pure), keepsRecords(pure)]).toEqual([false, false]);
});
