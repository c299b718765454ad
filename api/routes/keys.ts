import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { appendAuditEvent } from '../../adapters/db/audit';
import { createApiKey, listApiKeys, revokeApiKey } from '../../adapters/identity/api-keys';
import { CreateApiKeyRequest } from '../../contracts/identity';
import type { ApiKeyList, ApiKeyView, CreatedApiKeyView, PrincipalView } from '../../contracts/views';
import type { ApiKey } from '../../generated/prisma/client';
import { authorize, principalOf } from '../auth/guard';
import type { ApiDependencies } from '../dependencies';
import { notFound, Problem } from '../problems';
import { parse } from '../validate';

const KeyPath = z.object({ id: z.uuid('must be an API key id (UUID)') });

function keyView(row: ApiKey): ApiKeyView {
  return {
    id: row.id,
    prefix: row.prefix,
    name: row.name,
    tenant: row.tenant,
    roles: row.roles,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

/** Who am I, and API keys: an admin creates, lists and revokes the keys of their tenants. */
export function keyRoutes(deps: ApiDependencies): Router {
  const router = Router();

  router.get('/whoami', (_req, res) => {
    const { subject, name, tenants, roles, method } = principalOf(res);
    const view: PrincipalView = { subject, name, tenants, roles, method };
    res.json(view);
  });

  router.post('/keys', async (req, res) => {
    const admin = authorize(res, 'keys:manage');
    const body = parse(CreateApiKeyRequest, req.body ?? {}, 'body');
    const tenant = body.tenant ?? admin.tenants[0]!;
    if (!admin.tenants.includes(tenant)) {
      throw new Problem(403, 'Forbidden', `you are not an admin of tenant ${tenant}`, [
        { field: 'body.tenant', reason: 'is not one of your tenants' },
      ]);
    }
    const expiresAt = new Date(Date.now() + body.expiresInDays * 86_400_000);
    const { key, record } = await createApiKey(deps.db, {
      name: body.name,
      tenant,
      roles: body.roles,
      createdBy: admin.subject,
      expiresAt,
    });
    await appendAuditEvent(deps.db, {
      eventKey: `key-created:${record.id}`,
      tenant,
      type: 'auth.key_created',
      actor: admin.subject,
      data: {
        keyId: record.id,
        prefix: record.prefix,
        name: record.name,
        roles: record.roles,
        expiresAt: expiresAt.toISOString(),
      },
    });
    const view: CreatedApiKeyView = { ...keyView(record), key };
    res.status(201).json(view);
  });

  router.get('/keys', async (_req, res) => {
    const admin = authorize(res, 'keys:manage');
    const list: ApiKeyList = { items: (await listApiKeys(deps.db, admin.tenants)).map(keyView) };
    res.json(list);
  });

  router.delete('/keys/:id', async (req, res) => {
    const admin = authorize(res, 'keys:manage');
    const { id } = parse(KeyPath, req.params, 'path');
    const row = await revokeApiKey(deps.db, id, admin.tenants);
    if (!row) throw notFound(`API key ${id}`);
    await appendAuditEvent(deps.db, {
      eventKey: `key-revoked:${row.id}`,
      tenant: row.tenant,
      type: 'auth.key_revoked',
      actor: admin.subject,
      data: { keyId: row.id, prefix: row.prefix, name: row.name, requestId: randomUUID() },
    });
    res.json(keyView(row));
  });

  return router;
}
