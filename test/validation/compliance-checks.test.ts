import { buildContext } from '../../validation/compliance/ast';
import { CHECKS } from '../../validation/compliance/checks';
import { projectFromFiles } from '../../validation/project';

type Files = Record<string, string>;
const ts = (code: string): Files => ({ 'src/app.ts': code });

/** For every built-in check: code that must trigger it, and similar code that must not. */
const cases: Record<string, { positive: Files; negative: Files; notApplicable?: Files }> = {
  'tls-verification-disabled': {
    positive: ts("import https from 'https';\nexport const agent = new https.Agent({ rejectUnauthorized: false });\n"),
    negative: ts(
      "import https from 'https';\nexport const agent = new https.Agent({ rejectUnauthorized: true, ca: process.env.CA });\n",
    ),
    notApplicable: ts('export const add = (a: number, b: number) => a + b;\n'),
  },
  'cleartext-transmission': {
    positive: ts(
      "export const send = (body: string) => fetch('http://api.partner-bank.com/transfer', { method: 'POST', body });\n",
    ),
    negative: ts(
      "export const send = (body: string) => fetch('https://api.partner-bank.com/transfer', { method: 'POST', body });\nexport const dev = fetch('http://localhost:3000/x');\nexport const NS = 'http://www.w3.org/2000/svg';\n",
    ),
  },
  'permissive-cors-credentials': {
    positive: ts("import cors from 'cors';\nexport const c = cors({ origin: true, credentials: true });\n"),
    negative: ts(
      "import cors from 'cors';\nexport const c = cors({ origin: ['https://app.example.com'], credentials: true });\nexport const open = cors({ origin: '*' });\n",
    ),
  },
  'insecure-cookie': {
    positive: ts("export function login(res: any, t: string) { res.cookie('auth_token', t); }\n"),
    negative: ts(
      "export function login(res: any, t: string) { res.cookie('auth_token', t, { secure: true, httpOnly: true }); res.cookie('theme', 'dark'); }\n",
    ),
  },
  'weak-password-hash': {
    positive: ts(
      "import crypto from 'crypto';\nexport const hashPassword = (password: string) => crypto.createHash('sha1').update(password).digest('hex');\n",
    ),
    negative: ts(
      "import bcrypt from 'bcrypt';\nimport crypto from 'crypto';\nexport const hashPassword = (password: string) => bcrypt.hash(password, 12);\nexport const etag = (body: string) => crypto.createHash('md5').update(body).digest('hex');\n",
    ),
  },
  'weak-cryptography': {
    positive: ts(
      "import crypto from 'crypto';\nexport const c = crypto.createCipheriv('aes-128-ecb', Buffer.alloc(16), null);\n",
    ),
    negative: ts(
      "import crypto from 'crypto';\nexport const c = crypto.createCipheriv('aes-256-gcm', Buffer.alloc(32), crypto.randomBytes(12));\n",
    ),
  },
  'insecure-randomness': {
    positive: ts(
      'export const newOtpCode = () => { const otpCode = Math.floor(Math.random() * 1e6); return otpCode; };\n',
    ),
    negative: ts(
      "import { randomInt } from 'crypto';\nexport const newOtpCode = () => randomInt(1e6);\nexport const jitter = () => Math.random() * 50;\n",
    ),
  },
  'sql-injection': {
    positive: ts(
      'export const find = (db: any, name: string) => db.query("SELECT * FROM users WHERE name = \'" + name + "\'");\n',
    ),
    negative: ts(
      "export const find = (db: any, name: string) => db.query('SELECT * FROM users WHERE name = $1', [name]);\nexport const label = (name: string) => `select ${name} from the list`;\n",
    ),
  },
  'command-injection': {
    positive: ts(
      "import { execSync } from 'child_process';\nexport const size = (dir: string) => execSync(`du -sh ${dir}`).toString();\n",
    ),
    negative: ts(
      "import { execFileSync } from 'child_process';\nexport const size = (dir: string) => execFileSync('du', ['-sh', dir]).toString();\nexport const m = /a/.exec('a');\n",
    ),
    notApplicable: ts('export const m = /a(b)/.exec("ab");\n'),
  },
  'pii-in-logs': {
    positive: ts("export function created(user: { email: string }) { console.info('user created', user.email); }\n"),
    negative: ts(
      "export function created(user: { id: string; email: string }, server: any) { console.info('user created', user.id); console.log('listening', server.address()); }\n",
    ),
  },
  'unencrypted-sensitive-field': {
    positive: ts(
      'export const save = (db: any, body: any) => db.patient.create({ data: { name: body.name, diagnosis: body.diagnosis } });\n',
    ),
    negative: ts(
      'export const save = (db: any, body: any, encrypt: (s: string) => string) => db.patient.create({ data: { name: body.name, diagnosis: encrypt(body.diagnosis) } });\n',
    ),
    notApplicable: ts('export const add = (a: number, b: number) => a + b;\n'),
  },
  'missing-authorization': {
    positive: ts(
      "import express from 'express';\nconst app = express();\napp.post('/invoices', (req, res) => { res.json(req.body); });\n",
    ),
    negative: ts(
      "import express from 'express';\nimport { authenticate } from './auth';\nconst app = express();\napp.post('/invoices', authenticate, (req, res) => { res.json(req.body); });\napp.post('/login', (req, res) => { res.end(); });\n",
    ),
    notApplicable: ts(
      "import express from 'express';\nconst app = express();\napp.get('/health', (_req, res) => { res.end(); });\n",
    ),
  },
  'missing-audit-logging': {
    positive: ts(
      "import express from 'express';\nconst app = express();\napp.delete('/users/:id', requireAdmin, (req, res) => { res.sendStatus(204); });\n",
    ),
    negative: ts(
      "import express from 'express';\nconst app = express();\napp.delete('/users/:id', requireAdmin, (req, res) => { auditLog('user.deleted', req.params.id); res.sendStatus(204); });\n",
    ),
  },
  'no-auth-rate-limit': {
    positive: ts(
      "import express from 'express';\nconst router = express.Router();\nrouter.post('/password/reset', (req, res) => { audit('reset'); res.end(); });\n",
    ),
    negative: ts(
      "import express from 'express';\nimport rateLimit from 'express-rate-limit';\nconst router = express.Router();\nconst limiter = rateLimit({ limit: 5 });\nrouter.post('/password/reset', limiter, (req, res) => { audit('reset'); res.end(); });\n",
    ),
  },
  'weak-jwt-verification': {
    positive: ts(
      "import jwt from 'jsonwebtoken';\nexport const claims = (t: string) => jwt.verify(t, 'k', { algorithms: ['HS256', 'none'] });\n",
    ),
    negative: ts(
      "import jwt from 'jsonwebtoken';\nexport const claims = (t: string) => jwt.verify(t, process.env.KEY!, { algorithms: ['HS256'] });\n",
    ),
  },
  'hardcoded-secret': {
    positive: ts('export const config = { clientSecret: "f3Kd9sL2mQ7xV4nB6cZ1pR3t" };\n'),
    negative: ts('export const config = { clientSecret: process.env.CLIENT_SECRET };\n'),
  },
  'untrusted-dependency': {
    positive: { 'package.json': JSON.stringify({ dependencies: { 'expresss-router-helper': '^1.0.0' } }) },
    negative: { 'package.json': JSON.stringify({ dependencies: { express: '^5.1.0' } }) },
    notApplicable: ts('export const add = (a: number, b: number) => a + b;\n'),
  },
  'licence-violation': {
    positive: { 'package.json': JSON.stringify({ dependencies: { tinymce: '^7.0.0' } }) },
    negative: { 'package.json': JSON.stringify({ dependencies: { express: '^5.1.0' } }) },
  },
};

const run = async (check: string, files: Files) => {
  const project = projectFromFiles(Object.entries(files).map(([path, content]) => ({ path, content })));
  return CHECKS.get(check)!.run(buildContext(project));
};

describe('compliance checks', () => {
  it('has a positive and a negative case for every built-in check', () => {
    expect(Object.keys(cases).sort()).toEqual([...CHECKS.keys()].sort());
  });

  describe.each(Object.entries(cases))('%s', (check, { positive, negative, notApplicable }) => {
    it('fires on the vulnerable code, with file:line evidence', async () => {
      const outcome = await run(check, positive);
      expect(outcome.applicable).toBe(true);
      expect(outcome.hits.length).toBeGreaterThan(0);
      for (const hit of outcome.hits) {
        expect(hit).toMatchObject({ path: expect.any(String), line: expect.any(Number), message: expect.any(String) });
        expect(Object.keys(positive)).toContain(hit.path);
      }
    });

    it('stays quiet on the safe variant', async () => {
      const outcome = await run(check, negative);
      expect(outcome.hits).toEqual([]);
    });

    if (notApplicable) {
      it('is not applicable when the project has nothing it checks', async () => {
        await expect(run(check, notApplicable)).resolves.toEqual({ applicable: false, hits: [] });
      });
    }
  });
});
