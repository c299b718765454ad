import type { Command } from 'commander';
import { requireUuid } from '../arguments';
import { contextOf, out } from '../context';

export function registerCancel(program: Command): void {
  program
    .command('cancel')
    .description('cancel a running intent, as yourself: its tasks and their activities stop; no capsule is built')
    .argument('<id>', 'intent id')
    .option('-r, --reason <reason>', 'why')
    .action(async (id: string, options: { reason?: string }, command: Command) => {
      const intentId = requireUuid(id, 'intent id');
      const ctx = contextOf(command);
      // Who cancels is who you are (your credential); the audit trail records it.
      const body = options.reason !== undefined ? { reason: options.reason } : {};
      const response = await ctx.api.post<{ intentId: string }>(`/intents/${intentId}/cancel`, body);
      if (ctx.json) return out(response.raw);
      out(`cancelling intent ${intentId}; follow it with: qlp watch ${intentId}`);
    });
}
