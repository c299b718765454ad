import type { DataConverter } from '@temporalio/common';
import type { PayloadEncryptionConfig } from '../../config/codec';
import { AesGcmPayloadCodec } from './codec';

/** Where the failure converter that encodes messages lives: a workflow bundle built ahead takes it too. */
export const ENCRYPTING_FAILURE_CONVERTER_PATH = require.resolve('./codec-failure-converter');

/**
 * The data converter of every Temporal client and worker: payloads encrypted with the active key, failures'
 * messages and stack traces encoded with them. undefined when encryption is off (the SDK's defaults).
 */
export function temporalDataConverter(encryption: PayloadEncryptionConfig | undefined): DataConverter | undefined {
  if (!encryption) return undefined;
  return {
    payloadCodecs: [new AesGcmPayloadCodec(encryption)],
    failureConverterPath: ENCRYPTING_FAILURE_CONVERTER_PATH,
  };
}
