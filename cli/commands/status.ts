import type { Command } from 'commander';
import { requireUuid } from '../arguments';
import { contextOf, out } from '../context';
import { renderIntent } from '../format';
import { fetchIntent } from '../poll';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show an intent: status, tasks, validation, gate, capsule')
    .argument('<id>', 'intent id')
    .action(async (id: string, _options: object, command: Command) => {
      const intentId = requireUuid(id, 'intent id');
      const ctx = contextOf(command);
      const response = await fetchIntent(ctx.api, intentId);
      out(ctx.json ? response.raw : renderIntent(response.body, ctx));
    });
}
