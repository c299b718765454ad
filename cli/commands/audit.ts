import type { Command } from 'commander';
import type { z } from 'zod';
import {
  AuditPageView,
  AuditTrailView,
  verifyChain,
  type AuditEventView,
  type AuditVerification,
} from '../../contracts/audit-chain';
import type { ApiClient } from '../api-client';
import { requireUuid } from '../arguments';
import { contextOf, note, out } from '../context';
import { CliError } from '../errors';
import { escapeJsonText, escapeOneLine } from '../terminal-text';

/** The API's answer, checked against its contract before anything is recomputed from it. */
async function fetchChecked<T extends z.ZodType>(api: ApiClient, path: string, schema: T): Promise<z.infer<T>> {
  const response = await api.get<unknown>(path, { verbatim: true });
  const parsed = schema.safeParse(response.body);
  if (!parsed.success) {
    throw new CliError(
      `the API's answer to ${path} is not an audit trail`,
      undefined,
      parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  return parsed.data;
}

const short = (hash: string | null) => (hash ? hash.slice(0, 16) : 'none');

export function renderVerification(intentId: string, verification: AuditVerification): string {
  const [chain] = verification.chains;
  const legacy = verification.legacy
    ? `; ${verification.legacy} recorded before the chain existed are not chained (not verifiable)`
    : '';
  const events = chain?.events ?? 0;
  return `audit chain of intent ${intentId} verified: ${events} event${events === 1 ? '' : 's'}, head ${chain?.seq ?? 0} ${short(chain?.hash ?? null)}${legacy}`;
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit trail (auditor role)');

  audit
    .command('verify')
    .description("recompute an intent's audit chain here, without trusting the server: every hash, link and the head")
    .argument('<intent-id>', 'intent id')
    .action(async (id: string, _options: object, command: Command) => {
      const intentId = requireUuid(id, 'intent id');
      const ctx = contextOf(command);
      const trail = await fetchChecked(ctx.api, `/audit?intent=${intentId}`, AuditTrailView);
      // The server's own verification is ignored: recomputed from the events and the head it sent.
      const verification = verifyChain(trail.events, trail.head ? [trail.head] : []);
      if (ctx.json) out(escapeJsonText(JSON.stringify({ intentId, ...verification })));
      if (!verification.ok) {
        throw new CliError(
          `audit chain of intent ${intentId} FAILED verification: ${verification.problems.length} problem(s)`,
          undefined,
          verification.problems.map((p) =>
            escapeOneLine(
              `${p.problem} at seq ${p.seq ?? '?'}${p.eventId ? ` (event ${p.eventId})` : ''}: ${p.detail}`,
            ),
          ),
        );
      }
      if (!ctx.json) out(renderVerification(intentId, verification));
    });

  audit
    .command('export')
    .description(
      'write audit events as JSON Lines on stdout, for compliance reporting (qlp audit export > audit.jsonl)',
    )
    .option('--intent <id>', "only this intent's chain")
    .option('--tenant <name>', 'only this tenant (default: all of yours)')
    .action(async (options: { intent?: string; tenant?: string }, command: Command) => {
      const ctx = contextOf(command);
      const write = (events: AuditEventView[]) => {
        if (events.length) process.stdout.write(events.map((e) => `${escapeJsonText(JSON.stringify(e))}\n`).join(''));
        return events.length;
      };
      let count = 0;
      if (options.intent) {
        const intentId = requireUuid(options.intent, 'intent id');
        count = write((await fetchChecked(ctx.api, `/audit?intent=${intentId}`, AuditTrailView)).events);
      } else {
        let after: string | null = null;
        do {
          const query = new URLSearchParams({ limit: '1000', ...(options.tenant && { tenant: options.tenant }) });
          if (after) query.set('after', after);
          const page: AuditPageView = await fetchChecked(ctx.api, `/audit?${query.toString()}`, AuditPageView);
          count += write(page.events);
          after = page.nextAfter;
        } while (after);
      }
      note(`exported ${count} audit event${count === 1 ? '' : 's'}`);
    });
}
