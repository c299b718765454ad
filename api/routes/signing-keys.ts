import { Router } from 'express';
import type { SigningKeyList } from '../../contracts/capsule';
import { authorize } from '../auth/guard';
import { listSigningKeys } from '../../adapters/signing/registry';
import type { ApiDependencies } from '../dependencies';

/** The public keys capsules are signed with, retired ones included, so anyone can verify a capsule offline. */
export function signingKeyRoutes(deps: ApiDependencies): Router {
  const router = Router();

  router.get('/signing-keys', async (_req, res) => {
    authorize(res, 'intent:read');
    const list: SigningKeyList = { keys: await listSigningKeys(deps.db) };
    res.json(list);
  });

  return router;
}
