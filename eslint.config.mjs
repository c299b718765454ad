import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Workflow code runs in Temporal's deterministic sandbox and is replayed from history:
// no I/O, no clocks, no randomness, and activities only as types.
const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);

// Layer boundaries. Data flows one way: api → workflows → activities → domain (agents, validation, capsule)
// → adapters → contracts. Each layer is a top-level folder; an import that climbs out of a layer
// into another one must be listed under `may` (any import) or `types` (`import type` only).
// An entry with a slash ('workflows/messages', 'adapters/*/config') allows just that module.
// scripts/, bench/ and test/ are tooling: they may import anything, nothing may import them.
const LAYERS = [
  'contracts',
  'adapters',
  'agents',
  'validation',
  'capsule',
  'activities',
  'workflows',
  'workers',
  'api',
  'cli',
  'config',
  'generated',
  'scripts',
  'bench',
  'test',
];
const domain = { may: ['contracts', 'adapters', 'agents', 'validation', 'capsule', 'config'] };
const BOUNDARIES = {
  contracts: { may: [] },
  // TODO(lead): adapters/temporal/client.ts takes `Config` from config/; give it its own shape.
  adapters: { may: ['contracts', 'generated'], types: ['config'] },
  agents: domain,
  validation: domain,
  capsule: domain,
  activities: { may: ['contracts', 'adapters', 'agents', 'validation', 'capsule', 'config', 'generated'] },
  workflows: { may: ['contracts'], types: ['activities'] },
  workers: {
    may: ['contracts', 'adapters', 'agents', 'validation', 'capsule', 'activities', 'workflows', 'config', 'generated'],
  },
  // The capsule verifier is pure (contracts and node:crypto): the API and the offline CLI both run it.
  api: {
    may: ['contracts', 'adapters', 'config', 'generated', 'workflows/messages', 'capsule/verify'],
    types: ['workflows'],
  },
  cli: { may: ['contracts', 'capsule/verify'] },
  config: { may: ['contracts', 'adapters/*/config', 'validation/config'] },
};
const WHY = {
  default: 'Imports point down: api → workflows → activities → agents, validation, capsule → adapters → contracts.',
  workflows: 'Workflow code is deterministic: it calls activities through proxyActivities.',
  cli: 'The CLI is an HTTP client of the API: it shares only contracts/ (and the offline capsule verifier).',
  contracts: 'contracts/ is the bottom layer: zod schemas and types, nothing of ours.',
};
// no-restricted-imports sees only the import string, so each depth gets its own block:
// a file N folders deep reaches another layer with exactly N `../`.
const MAX_DEPTH = 8;
const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function layerPatterns(layer, depth) {
  const { may = [], types = [] } = BOUNDARIES[layer];
  const up = `^(?:\\./)?(?:\\.\\./){${depth}}`;
  return LAYERS.filter((target) => target !== layer && !may.includes(target)).map((target) => {
    const only = may.filter((entry) => entry.startsWith(`${target}/`)).map((entry) => entry.slice(target.length));
    const except = only.length ? `(?!(?:${only.map((m) => escapeRegex(m).replace(/\\\*/g, '[^/]+')).join('|')})$)` : '';
    const typeOnly = types.includes(target);
    const allowed = [...(typeOnly ? ['`import type`'] : []), ...only.map((m) => `'${target}${m}'`)];
    return {
      regex: `${up}${escapeRegex(target)}${except}(?:/|$)`,
      caseSensitive: true,
      allowTypeImports: typeOnly,
      message:
        (allowed.length
          ? `Layer boundary: ${layer}/ may import ${target}/ only as ${allowed.join(' or ')}. `
          : `Layer boundary: ${layer}/ may not import ${target}/. `) + (WHY[layer] ?? WHY.default),
    };
  });
}

const layerBoundaries = Object.keys(BOUNDARIES).flatMap((layer) =>
  Array.from({ length: MAX_DEPTH }, (_, index) => ({
    files: [`${layer}/${'*/'.repeat(index)}*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths:
            layer === 'workflows'
              ? nodeBuiltins.map((name) => ({
                  name,
                  message: 'Workflow code is deterministic: do I/O in an activity.',
                }))
              : [],
          patterns: layerPatterns(layer, index + 1),
        },
      ],
    },
  })),
);

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'dist',
      'generated',
      '.tools',
      '.data',
      '.scratch',
      'coverage',
      '**/.*',
      'test/fixtures/independent-corpus',
      'test/fixtures/holdout-corpus',
      'test/fixtures/evasion',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  ...layerBoundaries,
  {
    // The domain knows nothing of Temporal: activities/ adapt it (heartbeats, failure types).
    files: ['agents/**/*.ts', 'validation/**/*.ts', 'capsule/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['@temporalio/*'], message: 'Domain modules are Temporal-free; adapt in activities/.' }],
        },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Use workflow time (workflowInfo) or pass time in.' },
        { object: 'Math', property: 'random', message: 'Use uuid4() or pass randomness in from an activity.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'new Date() in a workflow is replay time.',
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The sandbox runner: plain CommonJS for Node, no type information.
    files: ['**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'commonjs',
      parserOptions: { projectService: false },
      globals: {
        require: 'readonly',
        module: 'readonly',
        __filename: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        console: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
