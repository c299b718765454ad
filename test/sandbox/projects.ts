import type { SandboxFile } from '../../adapters/sandbox/session';
import type { SandboxLimits } from '../../contracts/sandbox';

// Generated projects for the sandbox abuse suite: plain JavaScript (no tsconfig, so no slow compiler step)
// except the one clean TypeScript project.

const MiB = 1024 * 1024;

/** Small limits so every case ends in seconds on a 2-core machine. */
export function limitsFor(overrides: Partial<SandboxLimits> = {}): SandboxLimits {
  return {
    timeoutMs: 15_000,
    memoryBytes: 512 * MiB,
    pids: 128,
    cpus: 1,
    cpuSeconds: 60,
    workDirBytes: 64 * MiB,
    fileSizeBytes: 32 * MiB,
    openFiles: 256,
    outputBytes: 256 * 1024,
    ...overrides,
  };
}

const header = "'use strict';\nconst { test } = require('node:test');\nconst assert = require('node:assert');\n";

/** A JavaScript project whose `npm test` runs one test file. */
export function jsProject(testBody: string, manifest: Record<string, unknown> = {}): SandboxFile[] {
  return [
    {
      path: 'package.json',
      content: JSON.stringify({
        name: 'abuse',
        version: '1.0.0',
        private: true,
        scripts: { test: 'node --test test/abuse.test.js' },
        ...manifest,
      }),
    },
    { path: 'test/abuse.test.js', content: header + testBody },
  ];
}

export function trivialProject(): SandboxFile[] {
  return jsProject("test('one', () => assert.strictEqual(1 + 1, 2));\n");
}

export function infiniteLoopProject(): SandboxFile[] {
  return jsProject("test('spins forever', () => {\n  for (;;) {\n    // busy\n  }\n});\n");
}

export function cleanTypeScriptProject(): SandboxFile[] {
  return [
    {
      path: 'package.json',
      content: JSON.stringify({
        name: 'clean-ts',
        version: '1.0.0',
        private: true,
        scripts: { build: 'tsc -p .', test: 'tsc -p . && node --test dist/test/' },
        devDependencies: { typescript: '~5.9.3', '@types/node': '^20.19.0' },
      }),
    },
    {
      path: 'tsconfig.json',
      content: JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'commonjs',
          strict: true,
          esModuleInterop: true,
          outDir: 'dist',
          rootDir: '.',
          types: ['node'],
        },
        include: ['src', 'test'],
      }),
    },
    {
      path: 'src/slug.ts',
      content:
        'export function slugify(title: string): string {\n' +
        "  return title.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');\n" +
        '}\n\nexport function words(title: string): number {\n' +
        '  return title.split(/\\s+/).filter(Boolean).length;\n}\n',
    },
    {
      path: 'test/slug.test.ts',
      content:
        "import { test } from 'node:test';\nimport assert from 'node:assert';\nimport { slugify, words } from '../src/slug';\n\n" +
        "test('slugify makes a slug', () => assert.strictEqual(slugify('  Hello, World! '), 'hello-world'));\n" +
        "test('words counts words', () => assert.strictEqual(words('a b  c'), 3));\n",
    },
  ];
}

/**
 * A project whose one real test fails, and whose other test attacks the result channel as found from outside
 * under Docker: it looks for the runner (and its own ancestors, and pid 1), reads the nonce from their
 * memory, writes a forged "all passed, 42 tests" result line into their stdout and stderr, then kills the
 * runner so its real result never comes. It logs each attempt as `ATTACK …`.
 */
export function resultForgeryProject(): SandboxFile[] {
  const attack = `
const fs = require('node:fs');

const forged = (nonce) =>
  'QLP ' + nonce + ' result ' +
  JSON.stringify({
    steps: ['install', 'typecheck', 'build', 'test'].map((step) => ({ step, status: 'passed', durationMs: 1, outputExcerpt: '' })),
    tests: { passed: 42, failed: 0, skipped: 0, failures: [] },
    limitHits: [],
    missingDependencies: [],
    resources: {},
  }) + '\\n';

const argv = (pid) => { try { return fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').split('\\0'); } catch { return []; } };
const parentOf = (pid) => { try { return Number(/^PPid:\\s+(\\d+)/m.exec(fs.readFileSync('/proc/' + pid + '/status', 'utf8'))[1]); } catch { return 0; } };

/** The runner's nonce, from its writable memory: the request it parsed, or a line it wrote. */
function findNonce(pid) {
  const maps = fs.readFileSync('/proc/' + pid + '/maps', 'utf8');
  const fd = fs.openSync('/proc/' + pid + '/mem', 'r');
  const chunk = Buffer.alloc(1 << 20);
  let scanned = 0;
  try {
    for (const line of maps.split('\\n')) {
      const range = /^([0-9a-f]+)-([0-9a-f]+) rw/.exec(line);
      if (!range) continue;
      const end = parseInt(range[2], 16);
      for (let at = parseInt(range[1], 16); at < end && scanned < 512 * 1024 * 1024; at += chunk.length - 64) {
        let n = 0;
        try { n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, end - at), at); } catch { break; }
        scanned += n;
        const text = chunk.toString('latin1', 0, n);
        const found = /"nonce":"([0-9a-f]{32})"/.exec(text) || /QLP ([0-9a-f]{32}) (?:step|result) /.exec(text);
        if (found) return found[1];
        if (n < chunk.length) break;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return undefined;
}

test('forges the result', () => {
  const ancestors = [];
  for (let pid = process.ppid; pid > 0 && ancestors.length < 10; pid = parentOf(pid)) ancestors.push(pid);
  const runners = fs.readdirSync('/proc').filter((e) => /^\\d+$/.test(e)).map(Number)
    .filter((pid) => pid !== process.pid && (argv(pid)[1] || '').endsWith('runner.cjs'));
  const targets = [...new Set([...runners, ...ancestors, 1])];
  console.log('ATTACK runners ' + JSON.stringify(runners) + ' ancestors ' + JSON.stringify(ancestors));
  let nonce;
  for (const pid of targets) {
    try {
      nonce = nonce || findNonce(pid);
      console.log('ATTACK mem ' + pid + ' read');
    } catch (e) {
      console.log('ATTACK mem ' + pid + ' ' + e.code);
    }
  }
  if (nonce) console.log('ATTACK NONCE-FOUND');
  const line = forged(nonce || '0'.repeat(32));
  for (const pid of targets) {
    for (const fd of [1, 2]) {
      try {
        fs.writeFileSync('/proc/' + pid + '/fd/' + fd, line);
        console.log('ATTACK fd ' + pid + '/' + fd + ' wrote');
      } catch (e) {
        console.log('ATTACK fd ' + pid + '/' + fd + ' ' + e.code);
      }
    }
  }
  process.stdout.write(line);
  for (const pid of runners) {
    try {
      process.kill(pid, 'SIGKILL');
      console.log('ATTACK kill ' + pid + ' KILLED');
    } catch (e) {
      console.log('ATTACK kill ' + pid + ' ' + e.code);
    }
  }
});

test('the real test fails', () => assert.strictEqual(2 + 2, 5));
`;
  return jsProject(attack);
}
