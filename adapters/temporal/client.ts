import { Client, Connection } from '@temporalio/client';
import type { Config } from '../../config';
import { temporalDataConverter } from './codec-data-converter';
import { tracingClientInterceptors } from '../telemetry/tracing-temporal';

export async function createTemporalClient(config: Pick<Config, 'temporal' | 'codec'>): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  // Payloads it writes are encrypted, and those it reads decrypted, when PAYLOAD_ENCRYPTION_KEYS is set.
  const dataConverter = temporalDataConverter(config.codec.encryption);
  // The caller's trace continues into the workflow (StartWorkflow, updates, signals, queries).
  const interceptors = { workflow: tracingClientInterceptors() };
  return new Client({ connection, namespace: config.temporal.namespace, dataConverter, interceptors });
}

/** Where a person watches this workflow in the Temporal Web UI. */
export function workflowUiUrl(config: Pick<Config, 'temporal'>, workflowId: string): string {
  const { uiUrl, namespace } = config.temporal;
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
