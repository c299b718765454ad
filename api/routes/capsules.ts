import { pipeline } from 'node:stream/promises';
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { ListCapsulesQuery } from '../../contracts/capsule-query';
import { authorize, tenantScope } from '../auth/guard';
import { getCapsule, listCapsules, trustedKeys, verifyArchive } from '../capsule-views';
import type { ApiDependencies } from '../dependencies';
import { notFound, Problem } from '../problems';
import { parse } from '../validate';

const CapsulePath = z.object({ id: z.uuid('must be a capsule id (UUID)') });

/** The most `POST /capsules/verify` reads into memory; larger capsules are verified offline (qlp verify). */
export const VERIFY_UPLOAD_MAX_BYTES = 64 * 1024 * 1024;

const readArchive = express.raw({ type: () => true, limit: VERIFY_UPLOAD_MAX_BYTES });

/** An archive only: anything else is a 415, so a JSON or form post is never taken for one. */
function requireArchive(contentType: string | undefined): void {
  if (!contentType || !/^application\/(gzip|x-gzip|octet-stream)\s*(;|$)/i.test(contentType)) {
    throw new Problem(
      415,
      'Unsupported media type',
      'request body must be a capsule archive (Content-Type: application/gzip or application/octet-stream)',
    );
  }
}

/** The raw body, at most VERIFY_UPLOAD_MAX_BYTES; body-parser's errors become problems naming `body`. */
function readBody(req: Request, res: Response): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    void readArchive(req, res, (error?: unknown) => {
      if (!error) return resolve(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      const { type, status } = error as { type?: string; status?: number };
      if (type === 'entity.too.large') {
        const reason = `must be at most ${VERIFY_UPLOAD_MAX_BYTES} bytes (verify larger capsules with qlp verify)`;
        return reject(new Problem(413, 'Payload too large', `body ${reason}`, [{ field: 'body', reason }]));
      }
      if (status && status >= 400 && status < 500) {
        const reason = (error as Error).message;
        return reject(new Problem(status, 'Invalid request', `body ${reason}`, [{ field: 'body', reason }]));
      }
      reject(error as Error);
    });
  });
}

export function capsuleRoutes(deps: ApiDependencies): Router {
  const router = Router();

  router.get('/capsules', async (req, res) => {
    const principal = authorize(res, 'intent:read');
    res.json(await listCapsules(deps, principal, parse(ListCapsulesQuery, req.query, 'query')));
  });

  /** An uploaded archive checked against the registered keys: 200 with the report, whether it verified or not. */
  router.post('/capsules/verify', async (req, res) => {
    authorize(res, 'intent:read');
    requireArchive(req.headers['content-type']);
    const archive = await readBody(req, res);
    if (archive.length === 0) {
      const reason = 'is empty: send the capsule archive';
      throw new Problem(400, 'Invalid request', `body ${reason}`, [{ field: 'body', reason }]);
    }
    res.json(await verifyArchive(archive, trustedKeys(await deps.db.signingKey.findMany())));
  });

  router.get('/capsules/:id', async (req, res) => {
    const principal = authorize(res, 'intent:read');
    const { id } = parse(CapsulePath, req.params, 'path');
    const capsule = await getCapsule(deps, principal, id);
    if (!capsule) throw notFound(`capsule ${id}`);
    res.json(capsule);
  });

  /** Streams the archive from S3; the checksum header lets clients verify what they received. */
  router.get('/capsules/:id/download', async (req, res) => {
    const principal = authorize(res, 'intent:read');
    const { id } = parse(CapsulePath, req.params, 'path');
    const capsule = await deps.db.capsule.findFirst({ where: { id, intent: tenantScope(principal) } });
    if (!capsule) throw notFound(`capsule ${id}`);
    const body = await deps.store.stream(capsule.objectKey);
    res.set({
      'Content-Type': 'application/gzip',
      'Content-Length': String(capsule.sizeBytes),
      'Content-Disposition': `attachment; filename="${capsule.objectKey.split('/').pop()}"`,
      'X-Checksum-Sha256': capsule.sha256,
    });
    await pipeline(body, res);
  });

  return router;
}
