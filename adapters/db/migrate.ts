import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { transactionShape } from './migration-sql';

/**
 * Applies prisma/migrations with plain `pg`, recording them in Prisma's own
 * `_prisma_migrations` table with Prisma's checksum (sha256 of migration.sql).
 * The Prisma CLI's `migrate` commands need a schema-engine binary they download at run time,
 * which fails offline; this keeps both paths interchangeable: a database migrated here is
 * "up to date" for `prisma migrate deploy`, and vice versa. See docs/database.md.
 *
 * Each migration runs in one transaction with its record, so it applies all or nothing. A migration
 * with its own transaction control (Prisma writes `BEGIN; … COMMIT;` around enum changes) would end
 * ours half way: one wrapped whole in a single BEGIN … COMMIT runs as its body inside ours (the same
 * effect); any other transaction control is refused before anything of the run is applied.
 * One advisory lock is held for the whole run, so two migrators never apply at once.
 */

// Found by walking up, so it works from sources (tsx) and from the compiled dist/ alike.
function findMigrationsDir(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'prisma', 'migrations');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`prisma/migrations not found above ${from}`);
}

export const MIGRATIONS_DIR = findMigrationsDir(__dirname);

// Prisma's bookkeeping table, as the schema engine creates it for PostgreSQL.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

// Any constant works; it only has to be the same for every migrator of this database.
const MIGRATION_LOCK_ID = 72707369;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Creates the database named in the URL when it does not exist. Returns whether it did. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  if (!database) throw new MigrationError('DATABASE_URL names no database (expected …/<database>)');
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount) return false;
    try {
      await admin.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
    } catch (error) {
      // Another process created it between our check and our CREATE.
      if ((error as { code?: string }).code !== '42P04') throw error;
      return false;
    }
    return true;
  } finally {
    await admin.end();
  }
}

/** Applies pending migrations in order, each in its own transaction, under an advisory lock. */
export async function migrate(databaseUrl: string, migrations = readMigrations()): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await client.query(CREATE_MIGRATIONS_TABLE);
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
    );
    const done = new Map(rows.map((row) => [row.migration_name, row]));
    const pending = migrations.filter((migration) => !done.get(migration.name)?.finished_at);
    // Refused before anything is applied, so a run never stops half way through the pending ones.
    for (const migration of pending) {
      const shape = transactionShape(migration.sql);
      if (shape.kind === 'refused') throw new MigrationError(`migration ${migration.name} refused: ${shape.reason}`);
    }
    for (const migration of migrations) {
      const previous = done.get(migration.name);
      if (previous?.finished_at) {
        if (previous.checksum !== migration.checksum) {
          throw new MigrationError(
            `migration ${migration.name} was edited after it was applied (checksum differs); add a new migration instead`,
          );
        }
        continue;
      }
      if (previous) {
        throw new MigrationError(
          `migration ${migration.name} failed earlier and is marked unfinished; fix the database, then run ` +
            `\`prisma migrate resolve --rolled-back ${migration.name}\` or delete its row in _prisma_migrations`,
        );
      }
      await applyOne(client, migration);
      applied.push(migration.name);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await client.end();
  }
  return applied;
}

async function applyOne(client: Client, migration: Migration): Promise<void> {
  const id = randomUUID();
  await client.query('BEGIN');
  try {
    await client.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
      [id, migration.checksum, migration.name],
    );
    const shape = transactionShape(migration.sql);
    await client.query(shape.kind === 'wrapped' ? shape.body : migration.sql);
    await client.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [
      id,
    ]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    const message = (error as Error).message;
    // The one server-side prerequisite: say what to install rather than only what PostgreSQL said.
    const hint = /extension "vector"/.test(message)
      ? ' (the pgvector extension is not installed on the PostgreSQL server: as root on Debian run scripts/pgvector-setup, or install postgresql-<major>-pgvector; see docs/database.md#pgvector)'
      : '';
    throw new MigrationError(`migration ${migration.name} failed: ${message}${hint}`);
  }
}

/** Creates the database if needed and applies pending migrations. */
export async function prepareDatabase(databaseUrl: string): Promise<{ created: boolean; applied: string[] }> {
  const created = await ensureDatabase(databaseUrl);
  const applied = await migrate(databaseUrl);
  return { created, applied };
}
