import type { Command } from 'commander';
import { requireUuid } from '../arguments';
import { contextOf, note, out, type CliContext } from '../context';
import type { DecisionResponse, DecisionTokenView, IntentView } from '../../contracts/views';
import { CliError, ExitCode } from '../errors';
import { formatTime, safe } from '../format';

type Decision = 'approve' | 'reject' | 'request_changes';

interface DecideOptions {
  reason?: string;
  digest?: string;
  token?: boolean;
  /** request-changes: `<task>:<comment>` or `<file>:<comment>` (repeatable). */
  task?: string[];
  file?: string[];
  /** approve at the plan gate: task ids to drop. */
  removeTask?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerDecisions(program: Command): void {
  program
    .command('approve')
    .description('approve an intent waiting at the gate, as yourself (your credential); packaging follows')
    .argument('<id>', 'intent id')
    .option('-r, --reason <reason>', 'why')
    .option('--digest <digest>', 'the review digest you reviewed (default: the one under review now, printed)')
    .option(
      '--token',
      'print a signed decision to send as a `decision` signal with the temporal CLI, instead of sending it',
    )
    .option('--remove-task <task>', 'at the plan gate: approve the plan without this task (repeatable)', collect)
    .action(decide('approve'));

  program
    .command('request-changes')
    .description(
      'send the version under review back with comments: the affected tasks re-run, and a new version comes to the gate',
    )
    .argument('<id>', 'intent id')
    .requiredOption('-r, --reason <comments>', 'what to change (goes to every re-run agent)')
    .option(
      '--task <task:comment>',
      'a comment for one task; only the tasks named (and what depends on them) re-run (repeatable)',
      collect,
    )
    .option('--file <path:comment>', 'a comment about one file (repeatable)', collect)
    .option('--digest <digest>', 'the review digest you reviewed (default: the one under review now, printed)')
    .option(
      '--token',
      'print a signed decision to send as a `decision` signal with the temporal CLI, instead of sending it',
    )
    .action(decide('request_changes'));

  program
    .command('reject')
    .description('reject an intent waiting at the gate, as yourself; no capsule is built')
    .argument('<id>', 'intent id')
    .requiredOption('-r, --reason <reason>', 'why (required when rejecting)')
    .option('--digest <digest>', 'the review digest you reviewed (default: the one under review now, printed)')
    .option(
      '--token',
      'print a signed decision to send as a `decision` signal with the temporal CLI, instead of sending it',
    )
    .action(decide('reject'));
}

function decide(decision: Decision) {
  return async (id: string, options: DecideOptions, command: Command) => {
    const intentId = requireUuid(id, 'intent id');
    const ctx = contextOf(command);
    // Usage errors before any request: a malformed --task/--file never reaches the API.
    const changes = [
      ...(options.task ?? []).map((t) => change('task', t)),
      ...(options.file ?? []).map((f) => change('file', f)),
    ];
    const digest = options.digest ?? (await currentDigest(ctx, intentId));
    const body = {
      decision,
      digest,
      ...(options.reason !== undefined && { reason: options.reason }),
      ...(changes.length > 0 && { changes }),
      ...(options.removeTask?.length && { planEdit: { remove: options.removeTask } }),
    };
    if (options.token) {
      const response = await ctx.api.post<DecisionTokenView>(`/intents/${intentId}/decision-token`, body);
      if (ctx.json) return out(response.raw);
      note(
        `signed ${decision} of intent ${intentId} for review digest ${digest}, valid until ${formatTime(response.body.expiresAt)}`,
      );
      note('send it with:');
      return out(response.body.command);
    }
    const response = await ctx.api.post<DecisionResponse>(`/intents/${intentId}/decision`, body);
    if (ctx.json) return out(response.raw);
    const { decision: d, gate } = response.body;
    const approvedBy = (gate?.approvals ?? []).filter((a) => a.decision === 'approve').length;
    const waiting = gate?.state === 'open' && gate.required !== undefined ? gate.required - approvedBy : 0;
    const done = { approve: 'approved', reject: 'rejected', request_changes: 'requested changes to' }[decision];
    out(
      `${done} intent ${intentId} as ${safe(d.approver)}` +
        `${d.decidedAt ? ` at ${formatTime(d.decidedAt)}` : ''}${d.reason ? ` (${safe(d.reason)})` : ''}`,
    );
    out(`review digest: ${d.digest ?? digest}`);
    if (waiting > 0) return out(`the gate needs ${waiting} more approver(s) (${approvedBy} of ${gate!.required})`);
    out(
      decision === 'approve'
        ? `next: qlp watch ${intentId}, then qlp download ${intentId}`
        : decision === 'request_changes'
          ? `next: qlp watch ${intentId}; the new version comes back to the gate (qlp review ${intentId} shows its diff)`
          : `see: qlp status ${intentId}`,
    );
  };
}

/** `<task or file>:<comment>` → a change request; the comment is everything after the first colon. */
function change(kind: 'task' | 'file', value: string): { task?: string; file?: string; comment: string } {
  const at = value.indexOf(':');
  if (at <= 0 || at === value.length - 1) {
    throw new CliError(`--${kind} must be <${kind}>:<comment>, got ${JSON.stringify(value)}`, ExitCode.usage);
  }
  return { [kind]: value.slice(0, at), comment: value.slice(at + 1).trim() };
}

/** What is under review now, as the gate shows it: the digest an approval is bound to. */
async function currentDigest(ctx: CliContext, intentId: string): Promise<string> {
  const { body } = await ctx.api.get<IntentView>(`/intents/${intentId}`);
  if (body.status !== 'AWAITING_APPROVAL' || !body.gate?.digest) {
    throw new CliError(`intent ${intentId} is ${body.status}, not awaiting a decision`, ExitCode.failure);
  }
  note(`review digest under review now: ${body.gate.digest}`);
  return body.gate.digest;
}
