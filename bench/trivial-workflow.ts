import { proxyActivities } from '@temporalio/workflow';

// The smallest useful workflow: one activity. Its throughput is the dev server's own ceiling here.
const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '10s' });

export async function trivialWorkflow(): Promise<void> {
  await noop();
}
