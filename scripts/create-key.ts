/**
 * Bootstrap: creates an API key directly in the database, for the first admin (who then creates the
 * others with `qlp keys create`), or for automation. Prints the key once; store it, e.g. in
 * ~/.config/qlp/token (mode 600).
 *   npm run key:create -- --tenant acme --roles admin --name "first admin"
 */
import { Command } from 'commander';
import { createDatabase } from '../adapters/db/client';
import { appendAuditEvent } from '../adapters/db/audit';
import { createApiKey } from '../adapters/identity/api-keys';
import { loadConfigOrExit } from '../config';
import { Role, TenantName } from '../contracts/identity';

async function main(): Promise<void> {
  const options = new Command('key:create')
    .requiredOption('--tenant <tenant>', 'the tenant the key belongs to')
    .requiredOption('--roles <roles>', 'comma-separated: submitter, approver, auditor, admin')
    .option('--name <name>', 'what the key is for', 'bootstrap admin')
    .option('--expires-in-days <days>', 'days until it expires', '90')
    .parse()
    .opts<{ tenant: string; roles: string; name: string; expiresInDays: string }>();
  const tenant = TenantName.safeParse(options.tenant);
  const roles = options.roles.split(',').map((role) => Role.safeParse(role.trim()));
  const days = Number(options.expiresInDays);
  const problems = [
    ...(tenant.success ? [] : [`--tenant ${tenant.error.issues[0]?.message}`]),
    ...roles.flatMap((r) => (r.success ? [] : [`--roles: ${r.error.issues[0]?.message}`])),
    ...(Number.isInteger(days) && days > 0 && days <= 3650 ? [] : ['--expires-in-days must be 1–3650']),
  ];
  if (problems.length) {
    console.error(`key:create: ${problems.join('; ')}`);
    process.exit(2);
  }
  const config = loadConfigOrExit();
  const db = createDatabase(config.databaseUrl, { maxConnections: 1 });
  try {
    const { key, record } = await createApiKey(db, {
      name: options.name,
      tenant: tenant.data!,
      roles: roles.map((r) => r.data!),
      createdBy: 'bootstrap',
      expiresAt: new Date(Date.now() + days * 86_400_000),
    });
    await appendAuditEvent(db, {
      eventKey: `key-created:${record.id}`,
      tenant: record.tenant,
      type: 'auth.key_created',
      actor: 'bootstrap',
      data: { keyId: record.id, prefix: record.prefix, name: record.name, roles: record.roles },
    });
    console.error(
      `created key ${record.prefix} for tenant ${record.tenant} (roles ${record.roles.join(', ')}); shown once:`,
    );
    console.log(key);
  } finally {
    await db.$disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(`key:create failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
