import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './support/stack';
import { workerTelemetryOptions } from '../adapters/telemetry/tracing-temporal';

// Histories recorded from representative intents (test/fixtures/histories/record.ts). Replaying them
// against today's workflow code fails on any change that is not replay-safe: such changes need
// patched()/deprecatePatch() (docs/workflow-versioning.md).
const dir = join(__dirname, 'fixtures', 'histories');
const workflowIds = JSON.parse(readFileSync(join(dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
const fixtures = Object.keys(workflowIds).sort();

test('the recorded histories cover success (before and with every validation layer), gate wait, an ignored decision signal, two signed approvals, a plan gate with changes requested at v1, task failure, partial failure and cancellation', () => {
  expect(fixtures).toEqual([
    'cancelled',
    'completed',
    'completed-all-layers',
    'gate-wait',
    'ignored-decision',
    'partial-failure-continue',
    'plan-gate-changes',
    'signed-two-approvals',
    'task-failure-fail-fast',
  ]);
  expect(readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json').length).toBe(fixtures.length);
});

test.each(fixtures)('%s replays without nondeterminism', async (name) => {
  const history = historyFromJSON(JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')));
  await expect(
    Worker.runReplayHistory(
      { workflowBundle: await workflowBundle(), sinks: workerTelemetryOptions(true).sinks },
      history,
      workflowIds[name],
    ),
  ).resolves.toBeUndefined();
});
