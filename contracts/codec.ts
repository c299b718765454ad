import { z } from 'zod';

// The Temporal codec server protocol (POST /encode, /decode), as the Web UI and `temporal --codec-endpoint`
// speak it: payloads in proto JSON, where metadata values and data are base64.

const base64 = z
  .string({ error: 'must be a base64 string' })
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64')
  .refine((value) => value.length % 4 === 0, 'must be base64 (its length a multiple of 4)');

export const CodecPayload = z.object({
  metadata: z.record(z.string().min(1).max(256), base64, { error: 'must be an object of base64 strings' }).nullish(),
  data: base64.nullish(),
});
export type CodecPayload = z.infer<typeof CodecPayload>;

/** The request and the response of both routes. */
export const CodecPayloads = z.object({
  payloads: z.array(CodecPayload, { error: 'must be a list of payloads' }).max(10_000),
});
export type CodecPayloads = z.infer<typeof CodecPayloads>;
