import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * The layer boundaries in eslint.config.mjs, exercised with the real config on virtual files: each
 * fixture is linted with ESLint's Node API as if it lived at its path, so the path-based rules apply,
 * but nothing is written. Only the boundary rule runs, without type information (a few seconds).
 * ESLint loads its config with a dynamic import(), which jest's module sandbox refuses, so the
 * linting happens in one plain Node child process.
 */
const RULE = '@typescript-eslint/no-restricted-imports';

const LINT_FIXTURES = `
import { ESLint } from 'eslint';
const fixtures = JSON.parse(process.argv[1]);
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
  ruleFilter: ({ ruleId }) => ruleId === ${JSON.stringify(RULE)},
});
const results = [];
for (const { filePath, code } of fixtures) {
  const [result] = await eslint.lintText(code, { filePath, warnIgnored: true });
  results.push(result.messages.map(({ ruleId, message }) => ({ ruleId, message })));
}
process.stdout.write(JSON.stringify(results));
`;

interface Message {
  ruleId: string | null;
  message: string;
}

function lint(fixtures: { filePath: string; code: string }[]): Message[][] {
  const output = execFileSync(
    process.execPath,
    ['--input-type=module', '--eval', LINT_FIXTURES, JSON.stringify(fixtures)],
    { cwd: resolve(__dirname, '..'), encoding: 'utf8', timeout: 30_000 },
  );
  return JSON.parse(output) as Message[][];
}

const upward: [string, string, string][] = [
  [
    'adapters/storage/__fixture__.ts',
    "import { createApp } from '../../api/app';\nvoid createApp;\n",
    'Layer boundary: adapters/ may not import api/',
  ],
  [
    'contracts/__fixture__.ts',
    "import { createDatabase } from '../adapters/db/client';\nvoid createDatabase;\n",
    'Layer boundary: contracts/ may not import adapters/',
  ],
  [
    'workflows/__fixture__.ts',
    "import { createActivities } from '../activities';\nvoid createActivities;\n",
    'Layer boundary: workflows/ may import activities/ only as `import type`',
  ],
  [
    'workflows/nested/__fixture__.ts',
    "export { createActivities } from '../../activities';\n",
    'Layer boundary: workflows/ may import activities/ only as `import type`',
  ],
  [
    'api/__fixture__.ts',
    "import { createActivities } from '../activities';\nvoid createActivities;\n",
    'Layer boundary: api/ may not import activities/',
  ],
  [
    'api/routes/__fixture__.ts',
    "import { intentWorkflow } from '../../workflows/intent';\nvoid intentWorkflow;\n",
    'Layer boundary: api/ may import workflows/ only as `import type`',
  ],
  [
    'validation/__fixture__.ts',
    "import { createActivities } from '../activities';\nvoid createActivities;\n",
    'Layer boundary: validation/ may not import activities/',
  ],
  [
    'agents/offline/__fixture__.ts',
    "import { createActivities } from '../../activities';\nvoid createActivities;\n",
    'Layer boundary: agents/ may not import activities/',
  ],
  [
    'activities/__fixture__.ts',
    "import { createApp } from '../api/app';\nvoid createApp;\n",
    'Layer boundary: activities/ may not import api/',
  ],
  [
    'cli/commands/__fixture__.ts',
    "import { loadConfig } from '../../config';\nvoid loadConfig;\n",
    'Layer boundary: cli/ may not import config/',
  ],
  [
    'config/__fixture__.ts',
    "import { LlmGateway } from '../adapters/llm';\nvoid LlmGateway;\n",
    "Layer boundary: config/ may import adapters/ only as 'adapters/*/config'",
  ],
  // The determinism rule shares the option list with the boundaries in workflows/.
  [
    'workflows/__fixture__.ts',
    "import { readFile } from 'node:fs';\nvoid readFile;\n",
    'Workflow code is deterministic',
  ],
];

const legal: [string, string][] = [
  ['activities/__fixture__.ts', "import { taskTypes } from '../contracts/plan';\nvoid taskTypes;\n"],
  ['activities/validate/__fixture__.ts', "import { finding } from '../../validation/findings';\nvoid finding;\n"],
  ['workflows/__fixture__.ts', "import type { Activities } from '../activities';\nexport type A = Activities;\n"],
  ['api/__fixture__.ts', "import { cancelIntentUpdate } from '../workflows/messages';\nvoid cancelIntentUpdate;\n"],
  // A same-named module inside a layer is not the layer: these are api/routes/validation.ts and
  // adapters/sandbox/config.ts, not validation/ and config/.
  ['api/__fixture__.ts', "import { validationRoutes } from './routes/validation';\nvoid validationRoutes;\n"],
  ['adapters/sandbox/runner/__fixture__.ts', "import { DEFAULT_LIMITS } from '../config';\nvoid DEFAULT_LIMITS;\n"],
  ['config/__fixture__.ts', "import { llmEnvShape } from '../adapters/llm/config';\nvoid llmEnvShape;\n"],
  ['cli/__fixture__.ts', "import { intentStatuses } from '../contracts/intent';\nvoid intentStatuses;\n"],
];

let results: Map<string, Message[]>;

beforeAll(() => {
  const fixtures = [...upward, ...legal].map(([filePath, code]) => ({ filePath, code }));
  const messages = lint(fixtures);
  results = new Map(fixtures.map(({ filePath, code }, index) => [filePath + code, messages[index]!]));
});

function boundaryErrors(filePath: string, code: string): string[] {
  const messages = results.get(filePath + code)!;
  // Anything but the boundary rule (a parse error, an ignored file) would mean the fixture proves nothing.
  expect(messages.filter((message) => message.ruleId !== RULE)).toEqual([]);
  return messages.map((message) => message.message);
}

describe('layer boundaries (eslint.config.mjs)', () => {
  test.each(upward)('#%# %s: a forbidden import is a lint error', (filePath, code, expected) => {
    const errors = boundaryErrors(filePath, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(expected);
  });

  test.each(legal)('#%# %s: an allowed import passes', (filePath, code) => {
    expect(boundaryErrors(filePath, code)).toEqual([]);
  });
});
