import { DefaultFailureConverter } from '@temporalio/common';

/**
 * With payload encryption on, failure messages and stack traces move into an encoded payload (so the codec
 * encrypts them) instead of travelling in clear in the failure's `message`. Loaded by path
 * (`failureConverterPath`): the worker bundles it into the workflow sandbox, and clients require it.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
