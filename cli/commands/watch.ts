import type { Command } from 'commander';
import { requireUuid } from '../arguments';
import { contextOf, note, out } from '../context';
import { formatTime, renderIntent } from '../format';
import type { IntentView } from '../../contracts/views';
import { guardOutput } from '../terminal-text';
import { exitOnInterrupt, outcomeExitCode, pollUntilSettled, POLL_INTERVAL_MS, progressReporter } from '../poll';

const CLEAR_SCREEN = '\x1b[H\x1b[2J';

export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description('follow an intent until it awaits approval or finishes (exit 1 if it fails or is rejected)')
    .argument('<id>', 'intent id')
    .action(async (id: string, _options: object, command: Command) => {
      const intentId = requireUuid(id, 'intent id');
      const ctx = contextOf(command);
      // On a terminal, redraw the status in place; in a pipe, log changes and print the final view once.
      const live = Boolean(process.stdout.isTTY) && !ctx.json;
      exitOnInterrupt();
      const onUpdate = live ? redraw(ctx) : progressReporter(note);
      const settled = await pollUntilSettled(ctx.api, intentId, onUpdate, POLL_INTERVAL_MS);
      if (!live) out(ctx.json ? settled.raw : renderIntent(settled.body, ctx));
      process.exitCode = outcomeExitCode(settled.body);
    });
}

function redraw(ctx: { color: boolean }): (intent: IntentView) => void {
  let last = '';
  return (intent) => {
    const view = renderIntent(intent, ctx);
    if (view === last) return;
    last = view;
    const footer = `\nwatching; last change at ${formatTime(new Date().toISOString())} (Ctrl-C to stop)`;
    process.stdout.write(`${CLEAR_SCREEN}${guardOutput(view)}\n${footer}\n`);
  };
}
