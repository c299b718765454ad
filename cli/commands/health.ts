import type { Command } from 'commander';
import { contextOf, out } from '../context';
import { renderHealth } from '../format';
import type { HealthReport } from '../../contracts/views';

export function registerHealth(program: Command): void {
  program
    .command('health')
    .description('check the API and what it depends on (exit 1 if degraded)')
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command);
      // A degraded API answers 503 with the same report, which is an answer, not an error.
      const response = await ctx.api.get<HealthReport>('/health', { accept: [503] });
      out(ctx.json ? response.raw : renderHealth(response.body, ctx));
      if (response.body.status !== 'ok') process.exitCode = 1;
    });
}
