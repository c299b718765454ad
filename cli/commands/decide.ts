import type { Command } from 'commander';
import { requireUuid } from '../arguments';
import { contextOf, note, out, type CliContext } from '../context';
import type { DecisionResponse, DecisionTokenView, IntentView } from '../../contracts/views';
import { CliError, ExitCode } from '../errors';
import { formatTime, safe } from '../format';

type Decision = 'approve' | 'reject';

interface DecideOptions {
  reason?: string;
  digest?: string;
  token?: boolean;
}

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
    .action(decide('approve'));

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
    const digest = options.digest ?? (await currentDigest(ctx, intentId));
    const body = { decision, digest, ...(options.reason !== undefined && { reason: options.reason }) };
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
    out(
      `${decision === 'approve' ? 'approved' : 'rejected'} intent ${intentId} as ${safe(d.approver)}` +
        `${d.decidedAt ? ` at ${formatTime(d.decidedAt)}` : ''}${d.reason ? ` (${safe(d.reason)})` : ''}`,
    );
    out(`review digest: ${d.digest ?? digest}`);
    if (waiting > 0) return out(`the gate needs ${waiting} more approver(s) (${approvedBy} of ${gate!.required})`);
    out(
      decision === 'approve'
        ? `next: qlp watch ${intentId}, then qlp download ${intentId}`
        : `see: qlp status ${intentId}`,
    );
  };
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
