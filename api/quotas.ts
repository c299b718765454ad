import { randomUUID } from 'node:crypto';
import { appendAuditEvent } from '../adapters/db/audit';
import type { Database } from '../adapters/db/client';
import { tenantTokensSince } from '../adapters/llm';
import { tenantPolicy } from '../config/security';
import { terminalStatuses } from '../contracts/intent';
import type { Principal } from '../contracts/identity';
import type { ApiDependencies } from './dependencies';
import { Problem } from './problems';

type Tx = Parameters<Parameters<Database['$transaction']>[0]>[0];

interface Usage {
  name: 'concurrentIntents' | 'intentsPerDay' | 'llmTokensPerDay';
  limit: number;
  used: number;
  /** When it frees up: the next UTC midnight, or null (when a running intent ends). */
  resetsAt: Date | null;
}

const nextUtcMidnight = (now: Date) =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
const utcMidnight = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));

/**
 * Refuses a submission over one of the tenant's quotas with a 429 naming it and when it resets (and
 * records the refusal in the audit trail). Call it inside the transaction that creates the intent: the
 * tenant's advisory lock makes concurrent submissions count each other.
 */
export async function admitSubmission(
  deps: ApiDependencies,
  tx: Tx,
  tenant: string,
  principal: Principal,
  now = new Date(),
): Promise<void> {
  const policy = tenantPolicy(deps.config.security, tenant);
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`quota:${tenant}`}))`;
  const dayStart = utcMidnight(now);
  const checks: (() => Promise<Usage | undefined>)[] = [
    async () => {
      if (!policy.concurrentIntents) return undefined;
      const used = await tx.intent.count({ where: { tenant, status: { notIn: [...terminalStatuses] } } });
      return { name: 'concurrentIntents', limit: policy.concurrentIntents, used, resetsAt: null };
    },
    async () => {
      if (!policy.intentsPerDay) return undefined;
      const used = await tx.intent.count({ where: { tenant, createdAt: { gte: dayStart } } });
      return { name: 'intentsPerDay', limit: policy.intentsPerDay, used, resetsAt: nextUtcMidnight(now) };
    },
    async () => {
      if (!policy.llmTokensPerDay) return undefined;
      const used = await tenantTokensSince(tx, tenant, dayStart);
      return { name: 'llmTokensPerDay', limit: policy.llmTokensPerDay, used, resetsAt: nextUtcMidnight(now) };
    },
  ];
  for (const check of checks) {
    const usage = await check();
    if (usage && usage.used >= usage.limit) throw await refusal(deps, tenant, principal, usage, now);
  }
}

async function refusal(deps: ApiDependencies, tenant: string, principal: Principal, usage: Usage, now: Date) {
  const resetsAt = usage.resetsAt?.toISOString() ?? null;
  await appendAuditEvent(deps.db, {
    eventKey: `quota:${randomUUID()}`,
    tenant,
    type: 'quota.refused',
    actor: principal.subject,
    data: { quota: usage.name, limit: usage.limit, used: usage.used, resetsAt },
  });
  const when = resetsAt ? `it resets at ${resetsAt}` : 'it frees up when one of the running intents finishes';
  const retryAfter = usage.resetsAt ? Math.max(1, Math.ceil((usage.resetsAt.getTime() - now.getTime()) / 1000)) : 60;
  return new Problem(
    429,
    'Quota exceeded',
    `tenant ${tenant} has reached its ${usage.name} quota (${usage.used} of ${usage.limit}); ${when}`,
    [{ field: `quota.${usage.name}`, reason: `limit ${usage.limit} reached` }],
    { quota: { name: usage.name, limit: usage.limit, used: usage.used, resetsAt } },
    { 'Retry-After': String(retryAfter) },
  );
}
