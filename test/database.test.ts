import { randomBytes } from 'node:crypto';
import { mkdtemp, cp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createDatabase } from '../adapters/db/client';
import { MIGRATIONS_DIR, MigrationError, migrate, prepareDatabase, readMigrations } from '../adapters/db/migrate';

interface RuntimeDataModel {
  models: Record<string, { dbName: string | null; fields: { name: string; kind: string; dbName?: string }[] }>;
}

// Each test gets a database of its own, dropped afterwards.
const base = new URL(process.env.DATABASE_URL!);
const created: string[] = [];

function freshDatabaseUrl(): string {
  const url = new URL(base);
  const name = `qlp_migrate_${randomBytes(4).toString('hex')}`;
  url.pathname = `/${name}`;
  created.push(name);
  return url.toString();
}

afterAll(async () => {
  const admin = new Client({ connectionString: Object.assign(new URL(base), { pathname: '/postgres' }).toString() });
  await admin.connect();
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
});

async function query<T extends object>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

test('a new database is created and migrated, and migrating again changes nothing', async () => {
  const url = freshDatabaseUrl();
  const migrations = readMigrations().map((m) => m.name);
  expect(await prepareDatabase(url)).toEqual({ created: true, applied: migrations });
  expect(await prepareDatabase(url)).toEqual({ created: false, applied: [] });
});

test("migrations are recorded exactly as Prisma's own migrate deploy records them", async () => {
  const url = freshDatabaseUrl();
  await prepareDatabase(url);
  const rows = await query<{
    migration_name: string;
    checksum: string;
    finished_at: Date | null;
    applied_steps_count: number;
  }>(
    url,
    'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
  );
  // Prisma's checksum is the sha256 of migration.sql; `prisma migrate deploy` treats these rows as applied.
  expect(
    rows.map(({ migration_name, checksum, applied_steps_count }) => ({
      migration_name,
      checksum,
      applied_steps_count,
    })),
  ).toEqual(readMigrations().map((m) => ({ migration_name: m.name, checksum: m.checksum, applied_steps_count: 1 })));
  expect(rows.every((row) => row.finished_at instanceof Date)).toBe(true);
});

test('every column the Prisma client maps exists in the migrated schema', async () => {
  const url = freshDatabaseUrl();
  await prepareDatabase(url);
  const columns = await query<{ table_name: string; column_name: string }>(
    url,
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'",
  );
  const actual = new Set(columns.map((c) => `${c.table_name}.${c.column_name}`));
  // The client's own data model (an internal field: Prisma 7 exports no DMMF), generated from schema.prisma.
  const db = createDatabase(url) as unknown as { _runtimeDataModel: RuntimeDataModel };
  const expected = Object.entries(db._runtimeDataModel.models).flatMap(([model, { dbName, fields }]) =>
    fields.filter((f) => f.kind !== 'object').map((f) => `${dbName ?? model}.${f.dbName ?? f.name}`),
  );
  expect(expected.length).toBeGreaterThan(30);
  expect(expected.filter((column) => !actual.has(column))).toEqual([]);
});

test('the Prisma client reads and writes every model on the migrated schema', async () => {
  const url = freshDatabaseUrl();
  await prepareDatabase(url);
  const db = createDatabase(url);
  try {
    const id = '00000000-0000-4000-8000-000000000001';
    await db.intent.create({
      data: {
        id,
        text: 'x',
        workflowId: `intent-${id}`,
        tasks: { create: [{ taskId: 't1', type: 'codegen', description: 'd', dependencies: ['t0'] }] },
        capsules: {
          create: {
            id: '00000000-0000-4000-8000-000000000002',
            version: 1,
            bucket: 'b',
            objectKey: 'k',
            sha256: 's',
            sizeBytes: 10n,
            fileCount: 1,
          },
        },
        auditEvents: {
          create: [
            {
              eventKey: 'e1',
              tenant: 'default',
              chain: `intent:${id}`,
              chainSeq: 1,
              hash: 'a'.repeat(64),
              type: 'intent.created',
              actor: 'test',
              createdAt: new Date(),
            },
          ],
        },
      },
    });
    const read = await db.intent.findUniqueOrThrow({
      where: { id },
      include: { tasks: true, capsules: true, auditEvents: true },
    });
    expect(read).toMatchObject({ status: 'RECEIVED', tenant: 'default', seq: 0 });
    expect(read.tasks[0]).toMatchObject({ status: 'PENDING', dependencies: ['t0'] });
    expect(read.capsules[0]).toMatchObject({ sizeBytes: 10n, format: 'quantumcapsule/v1', keyId: null });
    expect(read.auditEvents[0]?.data).toEqual({});
    // The trigger advanced the chain's head in the same statement.
    expect(await db.auditChainHead.findUnique({ where: { chain: `intent:${id}` } })).toMatchObject({
      tenant: 'default',
      seq: 1,
      hash: 'a'.repeat(64),
    });
  } finally {
    await db.$disconnect();
  }
});

test('a migration edited after it was applied stops start-up with a clear message', async () => {
  const url = freshDatabaseUrl();
  await prepareDatabase(url);
  const dir = await mkdtemp(join(tmpdir(), 'qlp-migrations-'));
  try {
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    const [first] = readMigrations(dir);
    await writeFile(join(dir, first!.name, 'migration.sql'), `${first!.sql}\n-- edited\n`);
    await expect(migrate(url, readMigrations(dir))).rejects.toThrow(
      new MigrationError(
        `migration ${first!.name} was edited after it was applied (checksum differs); add a new migration instead`,
      ),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
