import type { Command } from 'commander';
import { contextOf, note, out } from '../context';
import type { ApiKeyList, ApiKeyView, CreatedApiKeyView, PrincipalView } from '../../contracts/views';
import { requireUuid } from '../arguments';
import { formatTime, safe, table } from '../format';

export function registerKeys(program: Command): void {
  program
    .command('whoami')
    .description('who the API takes you for: subject, tenants, roles')
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command);
      const response = await ctx.api.get<PrincipalView>('/whoami');
      if (ctx.json) return out(response.raw);
      const me = response.body;
      out(
        `${safe(me.name)} (${me.subject}, ${me.method}): tenants ${me.tenants.join(', ')}; roles ${me.roles.join(', ')}`,
      );
    });

  const keys = program.command('keys').description('API keys of your tenants (admin role)');
  keys
    .command('create')
    .description('create an API key; its secret is printed once')
    .requiredOption('--name <name>', 'what the key is for (shown in lists and the audit trail)')
    .requiredOption('--roles <roles>', 'comma-separated: submitter, approver, auditor, admin')
    .option('--tenant <tenant>', 'tenant (default: your only one)')
    .option('--expires-in-days <days>', 'days until it expires (default 90)')
    .action(
      async (options: { name: string; roles: string; tenant?: string; expiresInDays?: string }, command: Command) => {
        const ctx = contextOf(command);
        const body = {
          name: options.name,
          roles: options.roles.split(',').map((r) => r.trim()),
          ...(options.tenant && { tenant: options.tenant }),
          ...(options.expiresInDays && { expiresInDays: Number(options.expiresInDays) }),
        };
        const response = await ctx.api.post<CreatedApiKeyView>('/keys', body);
        if (ctx.json) return out(response.raw);
        const key = response.body;
        note(
          `created key ${key.prefix} (${key.id}) for tenant ${key.tenant}, roles ${key.roles.join(', ')}, expires ${formatTime(key.expiresAt)}`,
        );
        note('the secret below is shown only now: store it (e.g. in ~/.config/qlp/token, mode 600)');
        out(key.key);
      },
    );
  keys
    .command('list')
    .description("your tenants' API keys (never their secrets)")
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command);
      const response = await ctx.api.get<ApiKeyList>('/keys');
      if (ctx.json) return out(response.raw);
      const rows = response.body.items.map((k: ApiKeyView) => [
        k.id,
        k.prefix,
        safe(k.name),
        k.tenant,
        k.roles.join(','),
        k.revokedAt ? `revoked ${formatTime(k.revokedAt)}` : `expires ${formatTime(k.expiresAt)}`,
      ]);
      out(table(['ID', 'PREFIX', 'NAME', 'TENANT', 'ROLES', 'STATE'], rows));
    });
  keys
    .command('revoke')
    .description('revoke an API key at once')
    .argument('<id>', 'key id')
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = contextOf(command);
      const keyId = requireUuid(id, 'key id');
      const response = await ctx.api.delete<ApiKeyView>(`/keys/${keyId}`);
      if (ctx.json) return out(response.raw);
      out(`revoked key ${response.body.prefix} (${safe(response.body.name)})`);
    });
}
