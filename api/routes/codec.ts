import cors from 'cors';
import express, { Router, type RequestHandler } from 'express';
import type { Payload } from '@temporalio/common';
import { AesGcmPayloadCodec, PayloadDecryptionError } from '../../adapters/temporal/codec';
import { CodecPayloads, type CodecPayload } from '../../contracts/codec';
import type { Permission } from '../../contracts/identity';
import { authenticate } from '../auth/authenticate';
import { authorize } from '../auth/guard';
import type { ApiDependencies } from '../dependencies';
import { Problem } from '../problems';
import { parse } from '../validate';

/**
 * Payloads of one Web UI history page or CLI call can be large (a payload may reach Temporal's 2 MiB blob
 * limit, base64 adds a third): its own JSON limit, parsed only after the caller is authenticated.
 */
const CODEC_BODY_LIMIT = '8mb';

/**
 * The codec server (Temporal's remote codec protocol) under the API: POST /codec/decode and /codec/encode,
 * for the Web UI (`--ui-codec-endpoint`, with CORS for its origin and its access token passed on) and
 * `temporal --codec-endpoint … --codec-auth 'Bearer …'`. Mounted before the API's own JSON parser.
 */
export function codecRoutes(deps: ApiDependencies): Router {
  const router = Router();
  const codec = new AesGcmPayloadCodec(deps.config.codec.encryption);
  // Preflights carry no credentials: answered here, before authentication; refusals carry the headers too.
  const allowOrigins = cors({
    origin: deps.config.codec.corsOrigins,
    methods: ['POST'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Namespace'],
    credentials: true,
    maxAge: 600,
  });
  const json = express.json({ limit: CODEC_BODY_LIMIT, strict: true });
  const paths = ['/decode', '/encode'];
  router.options(paths, allowOrigins);

  const handle =
    (permission: Permission, run: (payloads: Payload[]) => Promise<Payload[]>): RequestHandler =>
    async (req, res) => {
      authorize(res, permission);
      const namespace = req.header('x-namespace');
      if (namespace && namespace !== deps.config.temporal.namespace) {
        const reason = `must be ${deps.config.temporal.namespace}: this codec serves that namespace only`;
        throw new Problem(400, 'Invalid request', `header.x-namespace ${reason}`, [
          { field: 'header.x-namespace', reason },
        ]);
      }
      const body = parse(CodecPayloads, req.body, 'body');
      const out = await Promise.all(
        body.payloads.map(async (payload, index) => {
          try {
            return toJson((await run([fromJson(payload)]))[0]!);
          } catch (error) {
            if (!(error instanceof PayloadDecryptionError)) throw error;
            const field = `body.payloads.${index}`;
            throw new Problem(422, 'Cannot decode payload', `${field}: ${error.message}`, [
              { field, reason: error.message },
            ]);
          }
        }),
      );
      // Decrypted payloads are as sensitive as the data itself: never cached by a browser or a proxy.
      res.set('Cache-Control', 'no-store').json({ payloads: out } satisfies CodecPayloads);
    };

  router.post(
    '/decode',
    allowOrigins,
    authenticate(deps),
    json,
    handle('payloads:decode', (p) => codec.decode(p)),
  );
  router.post(
    '/encode',
    allowOrigins,
    authenticate(deps),
    json,
    handle('payloads:encode', (p) => codec.encode(p)),
  );
  return router;
}

function fromJson({ metadata, data }: CodecPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(data ?? '', 'base64'),
  };
}

function toJson({ metadata, data }: Payload): CodecPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
    data: Buffer.from(data ?? []).toString('base64'),
  };
}
