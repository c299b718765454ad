import type { GateState } from '../../contracts/decision';
import type { IntentStatus } from '../../contracts/intent';
import type { Scores, ValidationSummary } from '../../contracts/validation';
import type { Database } from './client';

/** A recorded similar intent, with its current status, scores, newest capsule and approvers. */
export interface SimilarIntentRow {
  intentId: string;
  text: string;
  similarity: number;
  model: string;
  status: IntentStatus;
  createdAt: Date;
  scores: Scores | null;
  verdict: string | null;
  capsule: { id: string; version: number } | null;
  approvers: string[];
}

/** Who approved an intent, by name, from its gate (the decision's approvals, or the single approver). */
export function approversOf(gate: unknown): string[] {
  const decision = (gate as GateState | null)?.decision;
  if (!decision || decision.decision !== 'approve') return [];
  const names = decision.approvals?.filter((a) => a.decision === 'approve').map((a) => a.name) ?? [];
  return names.length ? names : [decision.approver];
}

/**
 * The similar intents recorded for an intent, most similar first, read with their own rows now (a neighbour
 * approved since shows its capsule). Only intents of `tenants` when given: a neighbour is always of the
 * intent's tenant (the search is scoped), and this keeps it so should rows ever say otherwise.
 */
export async function similarIntentsOf(
  db: Database,
  intentId: string,
  tenants?: string[],
): Promise<SimilarIntentRow[]> {
  const rows = await db.intentSimilarity.findMany({
    where: { intentId, ...(tenants && { similarIntent: { tenant: { in: tenants } } }) },
    orderBy: { rank: 'asc' },
    select: {
      score: true,
      model: true,
      similarIntent: {
        select: {
          id: true,
          text: true,
          status: true,
          createdAt: true,
          gate: true,
          validation: true,
          capsules: { orderBy: { version: 'desc' }, take: 1, select: { id: true, version: true } },
        },
      },
    },
  });
  return rows.map(({ score, model, similarIntent: s }) => {
    const summary = (s.validation as ValidationSummary | null)?.score;
    return {
      intentId: s.id,
      text: s.text,
      similarity: score,
      model,
      status: s.status,
      createdAt: s.createdAt,
      scores: summary?.scores ?? null,
      verdict: summary?.verdict ?? null,
      capsule: s.capsules[0] ?? null,
      approvers: approversOf(s.gate),
    };
  });
}
