import type { Command } from 'commander';
import { parseLimit, parseStatus } from '../arguments';
import { contextOf, out } from '../context';
import { renderIntentList } from '../format';
import type { IntentPage } from '../../contracts/views';

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list intents, newest first')
    .option('-n, --limit <n>', 'how many (1-100, default 20)', parseLimit)
    .option('-s, --status <status>', 'only intents in this status, e.g. AWAITING_APPROVAL', parseStatus)
    .option('-c, --cursor <cursor>', 'the next page, as printed by a previous list')
    .action(async (options: { limit?: number; status?: string; cursor?: string }, command: Command) => {
      const ctx = contextOf(command);
      const query = new URLSearchParams();
      if (options.limit !== undefined) query.set('limit', String(options.limit));
      if (options.status !== undefined) query.set('status', options.status);
      if (options.cursor !== undefined) query.set('cursor', options.cursor);
      const qs = query.size > 0 ? `?${query.toString()}` : '';
      const response = await ctx.api.get<IntentPage>(`/intents${qs}`);
      out(ctx.json ? response.raw : renderIntentList(response.body, ctx));
    });
}
