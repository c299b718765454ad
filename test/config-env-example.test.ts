import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { envSchema, loadConfig } from '../config';
import { renderEnvExample } from '../config/env-example';

const committed = readFileSync(resolve(__dirname, '..', '.env.example'), 'utf8');

test('.env.example is the one generated from the setting declarations (run `npm run env:example`)', () => {
  expect(committed).toBe(renderEnvExample());
});

test('every variable of the schema is in .env.example, and nothing else', () => {
  const inFile = committed
    .split('\n')
    .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
  expect(new Set(inFile).size).toBe(inFile.length);
  expect([...inFile].sort()).toEqual(Object.keys(envSchema.shape).sort());
});

test('a variable without documentation, or with a default not written as in the environment, is refused', () => {
  const section = { title: 'Documented' };
  const documented = z.string().prefault('x').meta({ section });
  expect(() => renderEnvExample({ A: documented, B: z.string().optional() })).toThrow(/B has no \.meta/);
  expect(() => renderEnvExample({ A: documented, B: z.coerce.number().prefault(3).meta({ section }) })).toThrow(
    /B: declare the default as the environment writes it, e.g. \.prefault\('3'\)/,
  );
  expect(() => renderEnvExample({ A: documented, B: z.string().default('x').meta({ section }) })).toThrow(
    /B: declare a default with \.prefault/,
  );
  expect(renderEnvExample({ A: documented })).toMatch(/\n# --- Documented -+\nA=x\n$/);
});

test('with nothing set, loadConfig gives the declared defaults', () => {
  const config = loadConfig({});
  expect(config.gate).toEqual({ timeout: '7d', autoApprove: false, repairRounds: 2 });
  expect(config.api.port).toBe(8080);
  expect(config.dag).toEqual({ maxConcurrency: 10, maxPlanTasks: 30, failurePolicy: 'fail-fast' });
  // Defaults are written as the environment writes them and parsed like any value.
  expect(config.llm).toMatchObject({ providers: [], timeoutMs: 120_000, cache: true, temperature: 0 });
  expect(config.llm.budget).toEqual({ maxTokens: 400_000, maxCostUsd: null });
  expect(config.validation.frameworks).toEqual(['SOC2', 'GDPR', 'HIPAA', 'ISO27001']);
  expect(config.sandbox.limits).toMatchObject({ memoryBytes: 1024 * 1024 * 1024, outputBytes: 1024 * 1024 });
});

test('loading .env.example as it is gives the same config as an empty environment', () => {
  expect(loadConfig(parseEnv(committed))).toEqual(loadConfig({}));
});
