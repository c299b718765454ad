import { proxyActivities } from '@temporalio/workflow';

// The smallest useful workflow: one activity. Its throughput is the dev server's own ceiling here.
const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '10s' });

export async function trivialWorkflow(): Promise<void> {
  await noop();
}

/** The floor of an intent: as many sequential no-op activities as the intent's critical path has hops. */
export async function floorWorkflow(hops: number): Promise<void> {
  for (let i = 0; i < hops; i++) await noop();
}
