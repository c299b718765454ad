import type { Command } from 'commander';
import type { SimilarIntentsView } from '../../contracts/similar';
import { requireUuid } from '../arguments';
import { contextOf, out } from '../context';
import { oneLine, safe, table } from '../format';

export function registerSimilar(program: Command): void {
  program
    .command('similar')
    .description(
      'list the earlier intents of the same tenant found similar to an intent: status, scores, capsule, approvers',
    )
    .argument('<id>', 'intent id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const intentId = requireUuid(id, 'intent id');
      const ctx = contextOf(command);
      const response = await ctx.api.get<SimilarIntentsView>(`/intents/${intentId}/similar`);
      if (ctx.json) return out(response.raw);
      out(renderSimilar(response.body));
    });
}

const show = (n: number | null | undefined) => (n === null || n === undefined ? '-' : String(n));

/** The table of similar intents, with how they were found (the offline embedding says so). */
export function renderSimilar(view: SimilarIntentsView): string {
  if (!view.embedding) return 'Not embedded: this intent was submitted before similar intents were looked for.';
  const how = view.embedding.offline
    ? `local n-gram embedding (offline, ${safe(view.embedding.model)})`
    : `${safe(view.embedding.model)} (${view.embedding.dimension} dimensions)`;
  const head = `Similar intents (${how}; threshold ${view.threshold ?? '-'}):`;
  if (view.similar.length === 0) return `${head} none`;
  const rows = view.similar.map((s) => [
    s.intentId,
    `${(s.similarity * 100).toFixed(1)}%`,
    s.status,
    show(s.scores?.overall),
    s.capsule ? `${s.capsule.id} v${s.capsule.version}` : '-',
    s.approvers.length ? s.approvers.map(safe).join(', ') : '-',
    oneLine(s.text, 60),
  ]);
  return `${head}\n${table(['INTENT', 'SIMILARITY', 'STATUS', 'OVERALL', 'CAPSULE', 'APPROVED BY', 'TEXT'], rows)}`;
}
