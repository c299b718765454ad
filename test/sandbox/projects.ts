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
