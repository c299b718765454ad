import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { IdempotencyKey } from '../../contracts/intent';
import { contextOf, note, out } from '../context';
import { CliError, usageError } from '../errors';
import { renderIntent, renderSubmitted } from '../format';
import type { IntentView } from '../../contracts/views';
import { exitOnInterrupt, outcomeExitCode, pollUntilSettled, progressReporter } from '../poll';

interface SubmitOptions {
  tenant?: string;
  idempotencyKey?: string;
  file?: string;
  wait?: boolean;
  tag?: string[];
  reuse?: boolean;
  planReview?: boolean;
}

export function registerSubmit(program: Command): void {
  program
    .command('submit')
    .description('submit an intent in natural language')
    .argument('[text...]', "what to build; '-' reads it from stdin")
    .option('-f, --file <path>', 'read the intent text from a file')
    .option('-t, --tenant <tenant>', 'tenant (lowercase letters, digits, dashes)')
    .option('-k, --idempotency-key <key>', 'resubmitting with the same key returns the first intent')
    .option(
      '--tag <tag>',
      "a label carried into the capsule's metadata (repeatable)",
      (tag: string, tags: string[] = []) => [...tags, tag],
    )
    .option('--reuse', "start from a near-identical completed intent's capsule files, if there is one (qlp similar)")
    .option('--plan-review', 'open the plan gate: an approver reviews (and may edit) the plan before any agent runs')
    .option('-w, --wait', 'wait until the intent awaits approval or finishes (exit 1 if it fails or is rejected)')
    .addHelpText(
      'after',
      '\nExamples:\n  qlp submit Build a greeting service\n  echo "Build a CLI" | qlp submit - --wait',
    )
    .action(async (words: string[], options: SubmitOptions, command: Command) => {
      const ctx = contextOf(command);
      if (options.idempotencyKey !== undefined) checkIdempotencyKey(options.idempotencyKey);
      const text = await intentText(words, options.file);
      const response = await ctx.api.post<IntentView>(
        '/intents',
        {
          text,
          ...(options.tenant !== undefined && { tenant: options.tenant }),
          ...(options.tag !== undefined && { tags: options.tag }),
          ...(options.reuse && { reuse: true }),
          ...(options.planReview && { planReview: true }),
        },
        { headers: options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey } },
      );
      const intent = response.body;
      const replayed = response.headers.get('idempotent-replayed') === 'true';

      if (!options.wait) {
        out(ctx.json ? response.raw : renderSubmitted(intent, replayed, ctx));
        return;
      }
      note(
        `submitted intent ${intent.id}${replayed ? ' (replayed)' : ''}; waiting (Ctrl-C stops waiting, not the intent)`,
      );
      note(`Web UI: ${intent.links.temporalUi}`);
      exitOnInterrupt();
      const settled = await pollUntilSettled(ctx.api, intent.id, progressReporter(note));
      out(ctx.json ? settled.raw : renderIntent(settled.body, ctx));
      process.exitCode = outcomeExitCode(settled.body);
    });
}

function checkIdempotencyKey(key: string): void {
  const result = IdempotencyKey.safeParse(key);
  if (!result.success) throw usageError(`--idempotency-key ${result.error.issues[0]?.message ?? 'is invalid'}`);
}

/** Exactly one source: words, '-' for stdin, or --file. */
async function intentText(words: string[], file: string | undefined): Promise<string> {
  const fromStdin = words.length === 1 && words[0] === '-';
  if (file !== undefined && words.length > 0)
    throw usageError('give the intent text either as arguments or with --file, not both');
  let text: string;
  if (file !== undefined) {
    text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
    });
  } else if (fromStdin) {
    if (process.stdin.isTTY) note('reading the intent from stdin; finish with Ctrl-D');
    text = await readStdin();
  } else {
    text = words.join(' ');
  }
  if (text.trim() === '') {
    throw usageError(
      words.length === 0 && file === undefined
        ? "missing intent text: give it as arguments, with --file <path>, or '-' to read stdin"
        : 'the intent text is empty',
    );
  }
  return text;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
