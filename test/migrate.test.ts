import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { MigrationError, migrate, type Migration } from '../adapters/db/migrate';
import { splitStatements, transactionShape } from '../adapters/db/migration-sql';

// The offline migrator against real PostgreSQL, each test on a scratch database of its own: migrations
// that bring their own BEGIN/COMMIT never half-apply, and two migrators at once apply each migration once.

const base = new URL(process.env.DATABASE_URL!);
const created: string[] = [];
const admin = () =>
  new Client({ connectionString: Object.assign(new URL(base), { pathname: '/postgres' }).toString() });

async function scratchDatabase(): Promise<string> {
  const name = `qlp_migrate_${randomBytes(4).toString('hex')}`;
  const client = admin();
  await client.connect();
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  created.push(name);
  return Object.assign(new URL(base), { pathname: `/${name}` }).toString();
}

afterAll(async () => {
  const client = admin();
  await client.connect();
  for (const name of created) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.end();
});

async function query<T extends object>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const tables = async (url: string) =>
  (
    await query<{ name: string }>(
      url,
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
  ).map((row) => row.name);

const recorded = async (url: string) =>
  query<{ migration_name: string; finished: boolean }>(
    url,
    'SELECT migration_name, finished_at IS NOT NULL AS finished FROM _prisma_migrations ORDER BY migration_name',
  );

const migration = (name: string, sql: string): Migration => ({ name, sql, checksum: name.padEnd(64, '0') });

/** What Prisma generates for an enum change: its own transaction around the whole script. */
const prismaEnumChange = `-- AlterEnum
BEGIN;
CREATE TYPE "Color_new" AS ENUM ('red', 'green');
ALTER TABLE "paint" ALTER COLUMN "color" TYPE "Color_new" USING ("color"::text::"Color_new");
DROP TYPE "Color";
ALTER TYPE "Color_new" RENAME TO "Color";
COMMIT;
`;
const createPaint = migration(
  '001_paint',
  `CREATE TYPE "Color" AS ENUM ('red', 'green', 'blue');
CREATE TABLE "paint" ("id" SERIAL PRIMARY KEY, "color" "Color" NOT NULL);
INSERT INTO "paint" ("color") VALUES ('red'), ('green');`,
);

describe('reading transaction control out of a migration', () => {
  it('ignores semicolons and keywords inside comments, strings, identifiers and dollar-quoted bodies', () => {
    const sql = `-- COMMIT; a comment
/* BEGIN; /* nested */ ROLLBACK; */
CREATE FUNCTION f() RETURNS void AS $body$ BEGIN COMMIT; END; $body$ LANGUAGE plpgsql;
INSERT INTO t VALUES ('it''s; COMMIT'), (E'\\'; END'), ($$ROLLBACK;$$);
CREATE TABLE "weird;COMMIT" (x int);
DO $$ BEGIN PERFORM 1; END $$;`;
    expect(splitStatements(sql).map((s) => s.head)).toEqual([
      'CREATE FUNCTION F()',
      'INSERT INTO T',
      'CREATE TABLE',
      'DO',
    ]);
    expect(transactionShape(sql)).toEqual({ kind: 'plain' });
  });

  it('takes one BEGIN … COMMIT around everything as wrapped, and refuses any other shape, naming where', () => {
    expect(transactionShape(prismaEnumChange)).toMatchObject({ kind: 'wrapped' });
    const shape = transactionShape('BEGIN;\nCREATE TABLE a (x int);\nCOMMIT;\nCREATE TABLE b (x int);');
    expect(shape).toMatchObject({ kind: 'refused' });
    expect(shape.kind === 'refused' && shape.reason).toMatch(/BEGIN at line 1, COMMIT at line 3/);
    expect(transactionShape('CREATE TABLE a (x int);\nROLLBACK;')).toMatchObject({ kind: 'refused' });
    expect(transactionShape('BEGIN ISOLATION LEVEL SERIALIZABLE;\nCREATE TABLE a (x int);\nCOMMIT;')).toMatchObject({
      kind: 'refused',
    });
  });
});

describe('migrate() on real PostgreSQL', () => {
  it('applies a Prisma-style migration with its own BEGIN/COMMIT atomically, recorded with it', async () => {
    const url = await scratchDatabase();
    const applied = await migrate(url, [createPaint, migration('002_enum', prismaEnumChange)]);
    expect(applied).toEqual(['001_paint', '002_enum']);
    expect(await recorded(url)).toEqual([
      { migration_name: '001_paint', finished: true },
      { migration_name: '002_enum', finished: true },
    ]);
    const labels = await query<{ label: string }>(url, 'SELECT unnest(enum_range(NULL::"Color"))::text AS label');
    expect(labels.map((row) => row.label)).toEqual(['red', 'green']);
  });

  it('a wrapped migration that fails half way leaves nothing: no change, no record, and it can be fixed and rerun', async () => {
    const url = await scratchDatabase();
    await migrate(url, [createPaint]);
    // Fails at its second statement: with the old wrapper its COMMIT would have been ours, half applied.
    const broken = migration(
      '002_broken',
      'BEGIN;\nCREATE TABLE "half" (x int);\nALTER TABLE "missing" ADD COLUMN y int;\nCOMMIT;\n',
    );
    await expect(migrate(url, [createPaint, broken])).rejects.toThrow(
      /migration 002_broken failed: relation "missing" does not exist/,
    );
    expect(await tables(url)).toEqual(['_prisma_migrations', 'paint']);
    expect(await recorded(url)).toEqual([{ migration_name: '001_paint', finished: true }]);
    const fixed = migration('002_broken', 'BEGIN;\nCREATE TABLE "half" (x int);\nCOMMIT;\n');
    expect(await migrate(url, [createPaint, fixed])).toEqual(['002_broken']);
    expect(await tables(url)).toEqual(['_prisma_migrations', 'half', 'paint']);
  });

  it('a migration with transaction control it cannot apply atomically is refused before anything of the run applies', async () => {
    const url = await scratchDatabase();
    const split = migration('002_split', 'BEGIN;\nCREATE TABLE "a" (x int);\nCOMMIT;\nCREATE TABLE "b" (x int);\n');
    const error = await migrate(url, [createPaint, split]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(
      /migration 002_split refused: it controls transactions itself \(BEGIN at line 1, COMMIT at line 3\)/,
    );
    expect(await tables(url)).toEqual(['_prisma_migrations']);
    expect(await recorded(url)).toEqual([]);
  });

  it('two migrators started together apply each migration exactly once', async () => {
    const url = await scratchDatabase();
    // Each migration logs itself; a second application would log twice (and the slow one widens the race).
    const log = (name: string) =>
      `CREATE TABLE IF NOT EXISTS "log" ("name" text); INSERT INTO "log" VALUES ('${name}');`;
    const migrations = [
      migration('001_slow', `${log('001_slow')} SELECT pg_sleep(0.5);`),
      migration('002_next', log('002_next')),
      migration('003_enum', `BEGIN;\n${log('003_enum')}\nCOMMIT;`),
    ];
    const [first, second] = await Promise.all([migrate(url, migrations), migrate(url, migrations)]);
    expect([...first!, ...second!].sort()).toEqual(['001_slow', '002_next', '003_enum']);
    expect(first!.length === 0 || second!.length === 0).toBe(true);
    const logged = await query<{ name: string; count: string }>(
      url,
      'SELECT name, count(*)::text AS count FROM "log" GROUP BY name ORDER BY name',
    );
    expect(logged).toEqual([
      { name: '001_slow', count: '1' },
      { name: '002_next', count: '1' },
      { name: '003_enum', count: '1' },
    ]);
    expect((await recorded(url)).map((row) => row.migration_name)).toEqual(['001_slow', '002_next', '003_enum']);
  });
});
