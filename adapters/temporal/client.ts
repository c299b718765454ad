import { Client, Connection } from '@temporalio/client';
import type { Config } from '../../config';

export async function createTemporalClient(config: Pick<Config, 'temporal'>): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** Where a person watches this workflow in the Temporal Web UI. */
export function workflowUiUrl(config: Pick<Config, 'temporal'>, workflowId: string): string {
  const { uiUrl, namespace } = config.temporal;
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
