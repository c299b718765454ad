import { analyseDataflow } from '../../validation/static/dataflow';
import { detectSecrets } from '../../validation/static/secrets';
import { projectFromFiles, type Project } from '../../validation/project';

const project = (files: Record<string, string>): Project =>
  projectFromFiles(Object.entries(files).map(([path, content]) => ({ path, content })));
/** `ruleId@line` of each data-flow finding. */
const flows = (files: Record<string, string>) =>
  analyseDataflow(project(files)).findings.map((f) => `${f.ruleId.replace('dataflow/', '')}@${f.location!.line}`);
const express = (body: string) =>
  `import express from 'express';\nimport fs from 'node:fs';\nimport path from 'node:path';\nconst app = express();\n${body}\n`;

// Each class: a vulnerable handler and its near miss (the usual safe idiom), which must stay quiet.
describe('data-flow analysis: request input to sinks', () => {
  it('path traversal: fs and sendFile with input; contained or basename paths are clean', () => {
    expect(
      flows({
        'src/a.ts': express(
          [
            "app.get('/a', (req, res) => { fs.readFile(path.join('/srv', req.params.f), () => res.end()); });",
            "app.get('/b', (req, res) => res.sendFile(req.query.f as string));",
            "app.get('/c', (req, res) => res.sendFile(req.query.f as string, { root: '/srv' }));",
            "app.get('/d', (req, res) => { const p = path.resolve('/srv', String(req.query.f)); if (!p.startsWith('/srv/')) return res.end(); fs.createReadStream(p).pipe(res); });",
            "app.get('/e', (req, res) => { fs.readFile(path.join('/srv', path.basename(req.params.f)), () => res.end()); });",
            // startsWith on a path that was never normalised is no containment check
            "app.get('/f', (req, res) => { const p = '/srv/' + req.params.f; if (!p.startsWith('/srv/')) return; fs.readFile(p, () => res.end()); });",
          ].join('\n'),
        ),
      }),
    ).toEqual(['path-traversal@5', 'path-traversal@6', 'path-traversal@10']);
  });

  it('follows input into a helper in another file (JavaScript), parameters and return values', () => {
    expect(
      flows({
        'src/files.js':
          "const fs = require('fs');\nfunction load(name) { return fs.readFileSync(`/srv/${name}`, 'utf8'); }\nmodule.exports = { load };\n",
        'src/routes.ts':
          "import { load } from './files';\nexport function show(req: any, res: any) { res.type('text/plain').send(load(req.query.name)); }\n",
      }),
    ).toEqual(['path-traversal@2']);
  });

  it('open redirect: input as the target; allow-lists, same-site paths and fixed prefixes are clean', () => {
    expect(
      flows({
        'src/a.ts': express(
          [
            "app.get('/a', (req, res) => res.redirect(req.query.next as string));",
            "app.get('/b', (req, res) => res.redirect(302, `${req.query.next}`));",
            "const OK = ['/home', '/billing'];",
            "app.get('/c', (req, res) => { const n = String(req.query.next); res.redirect(OK.includes(n) ? n : '/home'); });",
            "app.get('/d', (req, res) => res.redirect('/users/' + req.params.id));",
            "app.get('/e', (req, res) => res.redirect('/' + req.query.to));",
            "app.get('/f', (req, res) => { const n = String(req.query.next); if (!n.startsWith('/') || n.startsWith('//')) return res.redirect('/'); res.redirect(n); });",
          ].join('\n'),
        ),
      }),
    ).toEqual(['open-redirect@5', 'open-redirect@6', 'open-redirect@10']);
  });

  it('XSS: reflected and stored markup; escaping, JSON and text/plain are clean', () => {
    expect(
      flows({
        'src/a.ts': express(
          [
            "const esc = (s: string) => s.replace(/[<>&\"']/g, '');",
            "app.get('/a', (req, res) => res.send('<h1>' + req.query.q + '</h1>'));",
            "app.get('/b', (req, res) => res.send(`<h1>${esc(String(req.query.q))}</h1>`));",
            "app.get('/c', (req, res) => res.send({ q: req.query.q }));",
            "app.get('/d', (req, res) => res.type('text/plain').send(`q=${req.query.q}`));",
            "app.get('/e', async (req, res) => { const post = await db.posts.findOne(req.params.id); res.send(`<p>${post.body}</p>`); });",
            "app.get('/f', async (req, res) => { const post = await db.posts.findOne(req.params.id); res.json(post); });",
            'declare const db: any;',
          ].join('\n'),
        ),
      }),
    ).toEqual(['xss@6', 'xss@10']);
  });

  it('SSRF: input as the URL or host; fixed origins and host allow-lists are clean', () => {
    expect(
      flows({
        'src/a.ts': express(
          [
            "import axios from 'axios';",
            "app.get('/a', async (req, res) => res.json(await (await fetch(String(req.query.url))).json()));",
            "app.get('/b', async (req, res) => res.json((await axios.get(`${req.query.host}/status`)).data));",
            "app.get('/c', async (req, res) => res.json(await (await fetch(`https://api.example.com/u/${req.params.id}`)).json()));",
            "const HOSTS = new Set(['cdn.example.com']);",
            "app.get('/d', async (req, res) => { const u = new URL(String(req.query.url)); if (!HOSTS.has(u.hostname)) return res.end(); res.json(await (await fetch(u)).json()); });",
          ].join('\n'),
        ),
      }),
    ).toEqual(['ssrf@6', 'ssrf@7']);
  });

  it('code and template injection: Function, eval, vm and template compilers fed with input', () => {
    expect(
      flows({
        'src/a.js': [
          "const vm = require('vm');",
          "const Handlebars = require('handlebars');",
          'exports.a = (req, res) => res.json(new Function(req.body.code)());',
          "exports.b = (req, res) => res.json(vm.runInNewContext('x = ' + req.query.expr, {}));",
          'exports.c = (req, res) => res.send(Handlebars.compile(req.body.template)({}));',
          "exports.d = (req, res) => res.json(new Function('return this')());",
          'exports.e = (req, res) => res.json(JSON.parse(req.body.code));',
        ].join('\n'),
      }),
    ).toEqual(['code-injection@3', 'code-injection@4', 'template-injection@5']);
  });

  it('code built from any value that is not a constant is reported too (high), constants are not', () => {
    const findings = analyseDataflow(
      project({
        'src/formula.ts': [
          "export const compile = (input: string) => new Function('x', 'return ' + input);",
          "const BODY = 'return a + b';",
          "export const add = new Function('a', 'b', BODY);",
          "export const globalObject = new Function('return this')();",
        ].join('\n'),
      }),
    ).findings;
    expect(findings.map((f) => [f.ruleId, f.location!.line, f.severity])).toEqual([
      ['dataflow/code-injection', 1, 'high'],
    ]);
  });

  it('prototype pollution: recursive merge and deep set without a key block; blocked keys are clean', () => {
    const merge = (guard: string) =>
      `export function merge(t: any, s: any) {\n  for (const k in s) {\n    ${guard}\n    if (typeof s[k] === 'object') { t[k] = t[k] || {}; merge(t[k], s[k]); } else t[k] = s[k];\n  }\n  return t;\n}\n`;
    expect(flows({ 'src/a.ts': merge('') })).toEqual(['prototype-pollution@4']);
    expect(
      flows({ 'src/a.ts': merge("if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;") }),
    ).toEqual([]);
    // Blocking __proto__ alone leaves constructor.prototype open.
    expect(flows({ 'src/a.ts': merge("if (k === '__proto__') continue;") })).toEqual(['prototype-pollution@4']);
    expect(
      flows({
        'src/set.js':
          "function set(o, p, v) {\n  const parts = p.split('.');\n  let c = o;\n  for (let i = 0; i < parts.length - 1; i++) { const k = parts[i]; c[k] = c[k] || {}; c = c[k]; }\n  c[parts[parts.length - 1]] = v;\n}\nmodule.exports = set;\n",
      }),
    ).toEqual(['prototype-pollution@4']);
    expect(
      flows({
        'src/b.ts': 'export function f(req: any) { const o: any = {}; o[req.body.a][req.body.b] = req.body.c; }\n',
      }),
    ).toEqual(['prototype-pollution@1']);
  });

  it('command and SQL injection across a helper; parameters and argument arrays are clean', () => {
    expect(
      flows({
        'src/a.ts': [
          "import { exec, execFile } from 'node:child_process';",
          'declare const db: any;',
          'function run(dir: string) { exec(`ls ${dir}`); }',
          'export function a(req: any) { run(req.query.dir); }',
          "export function b(req: any) { execFile('ls', [req.query.dir]); }",
          'export function c(req: any) { return db.query(`SELECT * FROM t WHERE id = ${req.params.id}`); }',
          "export function d(req: any) { return db.query('SELECT * FROM t WHERE id = $1', [req.params.id]); }",
        ].join('\n'),
      }),
    ).toEqual(['command-injection@3', 'sql-injection@6']);
  });

  it('stored XSS through database callbacks, and React markup that is not sanitised', () => {
    expect(
      flows({
        'src/a.js': [
          "const sqlite3 = require('sqlite3');",
          "const db = new sqlite3.Database('app.db');",
          "exports.list = (req, res) => db.all('SELECT body FROM notes', (err, rows) => res.send(rows.map((r) => `<li>${r.body}</li>`).join('')));",
          "exports.count = (req, res) => db.get('SELECT count(*) AS n FROM notes', (err, row) => res.send(`<p>${row.count} notes</p>`));",
        ].join('\n'),
        'src/Bio.tsx': [
          "import DOMPurify from 'dompurify';",
          'export const Bio = ({ html }: { html: string }) => <div dangerouslySetInnerHTML={{ __html: html }} />;',
          'export const Safe = ({ html }: { html: string }) => <div dangerouslySetInnerHTML={{ __html: DOMPurify.sanitize(html) }} />;',
        ].join('\n'),
      }),
    ).toEqual(['xss@3', 'xss@2']);
  });

  it('a recursive clone writes only into fresh objects: not prototype pollution', () => {
    expect(
      flows({
        'src/clone.ts':
          "export function clone(o: any): any { const out: any = {}; for (const k in o) out[k] = typeof o[k] === 'object' ? clone(o[k]) : o[k]; return out; }\n",
      }),
    ).toEqual([]);
  });

  it('NestJS decorators, Koa and Lambda sources', () => {
    expect(
      flows({
        'src/n.ts':
          "import * as fs from 'fs';\nexport class C {\n  read(@Param('f') f: string) { return fs.readFileSync(`up/${f}`); }\n  go(@Query('n') n: string, @Res() res: any) { return res.redirect(n); }\n}\n",
        'src/k.js': 'module.exports = async (ctx) => { ctx.body = `<p>${ctx.query.name}</p>`; };\n',
        'src/l.js': 'exports.handler = async (event) => ({ body: eval(event.body) });\n',
      }),
    ).toEqual(['xss@1', 'code-injection@1', 'path-traversal@3', 'open-redirect@4']);
  });
});

describe('data-flow analysis: cleartext transmission in every request form', () => {
  it('http.request options and protocol "http:" to remote hosts; https, localhost and socket paths are clean', () => {
    expect(
      flows({
        'src/a.ts': [
          "import http from 'node:http';",
          "import https from 'node:https';",
          "export const a = (host: string) => http.request({ host, path: '/' });",
          "export const b = () => http.get({ hostname: 'api.partner.com', path: '/' });",
          "export const c = () => https.request({ protocol: 'http:', hostname: 'api.partner.com' });",
          "export const d = () => fetch(process.env.API_URL ?? 'http://api.partner.com/v1');",
          'export const e = (h: string) => fetch(`http://${h}/v1`);',
          "export const f = (host: string) => https.request({ host, path: '/' });",
          "export const g = () => http.get({ host: 'localhost', port: 8080 });",
          "export const h = () => http.request({ socketPath: '/var/run/docker.sock', path: '/info' });",
          "export const i = () => fetch('https://api.partner.com/v1');",
        ].join('\n'),
      }),
    ).toEqual([
      'cleartext-transmission@3',
      'cleartext-transmission@4',
      'cleartext-transmission@5',
      'cleartext-transmission@6',
      'cleartext-transmission@7',
    ]);
  });
});

describe('credentials in code positions', () => {
  const secrets = (content: string, path = 'src/a.ts') =>
    detectSecrets(project({ [path]: content })).map((f) => `${f.ruleId.replace('secrets/', '')}@${f.location!.line}`);

  it('a credential compared with a literal, in a switch, a basic-auth table, a Basic header or a URI', () => {
    expect(
      secrets(
        [
          "export const a = (req: any) => req.body.pass === 'Tr0ub4dor&3';",
          "export const b = (apiKey: string) => apiKey !== 'live-key-2024';",
          "export const c = (password: string) => { switch (password) { case 'letmein42': return 1; } return 0; };",
          "export const d = { users: { admin: 'supersecret' } };",
          "export const e = { Authorization: 'Basic YWRtaW46c2VjcmV0' };",
          "export const f = 'postgres://app:Pr0dPass@db.internal:5432/app';",
        ].join('\n'),
      ),
    ).toEqual([
      'hardcoded-credential@1',
      'hardcoded-credential@2',
      'hardcoded-credential@3',
      'hardcoded-credential@4',
      'hardcoded-credential@5',
      'hardcoded-credential@6',
    ]);
  });

  it('dictionary passwords in code, signing-key constants and shorthand session secrets', () => {
    expect(
      secrets(
        [
          "export const db = { host: 'db', user: 'root', password: 'root' };",
          "export const form = { password: 'password', placeholder: 'Password' };",
          "export const jwtConstants = { secret: 'secretKey' };",
          "const secret = 'keyboard cat';",
          'export const s = session({ secret, resave: false });',
          'declare const session: any;',
        ].join('\n'),
      ),
    ).toEqual(['weak-signing-key@3', 'weak-signing-key@4', 'weak-signing-key@5', 'hardcoded-credential@1']);
  });

  it('near misses: placeholder rejection, typeof, empty checks, scheme names, env values', () => {
    expect(
      secrets(
        [
          'const secret = process.env.SECRET;',
          "if (secret === 'changeme') throw new Error('set SECRET');",
          "export const a = (password: unknown) => typeof password === 'string' && password !== '';",
          "export const b = (tokenType: string) => tokenType === 'Bearer';",
          'export const c = (token: string) => token === process.env.TOKEN;',
          "export const d = 'postgres://app:${DB_PASSWORD}@db/app';",
        ].join('\n'),
      ),
    ).toEqual([]);
  });

  it('weak signing keys: short, dictionary or fallback secrets for jwt, HMAC and sessions', () => {
    expect(
      secrets(
        [
          "import jwt from 'jsonwebtoken';",
          "import { createHmac } from 'node:crypto';",
          "const KEY = process.env.JWT_KEY ?? 'changeme';",
          'export const a = (p: object) => jwt.sign(p, KEY);',
          "export const b = (t: string) => jwt.verify(t, 'shhhhh');",
          "export const c = (b: string) => createHmac('sha256', 'webhook-secret-2024').update(b).digest('hex');",
          "export const d = session({ secret: 'keyboard cat' });",
          "export const e = (p: object) => jwt.sign(p, 'your-256-bit-secret-change-me-in-production-please');",
          'declare const session: any;',
        ].join('\n'),
      ),
    ).toEqual([
      'weak-signing-key@4',
      'weak-signing-key@5',
      'weak-signing-key@6',
      'weak-signing-key@7',
      'weak-signing-key@8',
    ]);
  });

  it('keys from the environment (without a fallback) are clean; empty fallbacks fail closed', () => {
    expect(
      secrets(
        [
          "import jwt from 'jsonwebtoken';",
          "const KEY = process.env.JWT_KEY ?? '';",
          'export const a = (p: object) => jwt.sign(p, KEY);',
          'export const b = (t: string) => jwt.verify(t, process.env.JWT_PUBLIC_KEY!);',
          "export const c = (k: string, b: string) => require('crypto').createHmac('sha256', k).update(b).digest('hex');",
        ].join('\n'),
      ),
    ).toEqual([]);
  });
});
