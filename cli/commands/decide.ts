import type { Command } from 'commander';
import { requireUuid } from '../arguments';
import { contextOf, out } from '../context';
import type { DecisionResponse } from '../../contracts/views';
import { formatTime } from '../format';

type Decision = 'approve' | 'reject';

export function registerDecisions(program: Command): void {
  program
    .command('approve')
    .description('approve an intent waiting at the gate; packaging follows')
    .argument('<id>', 'intent id')
    .requiredOption('--as <approver>', 'who is approving (recorded in the audit trail)')
    .option('-r, --reason <reason>', 'why')
    .action(decide('approve'));

  program
    .command('reject')
    .description('reject an intent waiting at the gate; no capsule is built')
    .argument('<id>', 'intent id')
    .requiredOption('--as <approver>', 'who is rejecting (recorded in the audit trail)')
    .requiredOption('-r, --reason <reason>', 'why (required when rejecting)')
    .action(decide('reject'));
}

function decide(decision: Decision) {
  return async (id: string, options: { as: string; reason?: string }, command: Command) => {
    const intentId = requireUuid(id, 'intent id');
    const ctx = contextOf(command);
    const body = { decision, approver: options.as, ...(options.reason !== undefined && { reason: options.reason }) };
    const response = await ctx.api.post<DecisionResponse>(`/intents/${intentId}/decision`, body);
    if (ctx.json) return out(response.raw);
    const d = response.body.decision;
    out(
      `${decision === 'approve' ? 'approved' : 'rejected'} intent ${intentId} as ${d.approver}` +
        `${d.decidedAt ? ` at ${formatTime(d.decidedAt)}` : ''}${d.reason ? ` (${d.reason})` : ''}`,
    );
    out(
      decision === 'approve'
        ? `next: qlp watch ${intentId}, then qlp download ${intentId}`
        : `see: qlp status ${intentId}`,
    );
  };
}
