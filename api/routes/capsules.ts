import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { z } from 'zod';
import { authorize, tenantScope } from '../auth/guard';
import type { ApiDependencies } from '../dependencies';
import { notFound } from '../problems';
import { parse } from '../validate';

const CapsulePath = z.object({ id: z.uuid('must be a capsule id (UUID)') });

export function capsuleRoutes(deps: ApiDependencies): Router {
  const router = Router();

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
