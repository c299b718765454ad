import { prepareDatabase } from '../../adapters/db/migrate';
import { canConnect } from './net';
import { ensureEmbeddedPostgres, type EmbeddedPostgresOptions, type EmbeddedPostgresStatus } from './postgres';

/** The contract of adapters/db/migrate.ts: create the database if missing, apply pending migrations. */
export type PrepareDatabase = (databaseUrl: string) => Promise<{ created: boolean; applied: string[] }>;

export interface DatabaseStatus {
  /** DATABASE_URL with its password masked: safe to print. */
  url: string;
  created: boolean;
  applied: string[];
  /** Set when the server is our embedded PostgreSQL (scripts/services/postgres.ts), started now or earlier. */
  embedded?: EmbeddedPostgresStatus;
}

/** DATABASE_URL with the password replaced by ***, for logs and messages. */
export function redactDatabaseUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return databaseUrl.replace(/\/\/[^@/]*@/, '//***@'); // unparsable: hide all userinfo
  }
}

/**
 * Creates the database if needed and applies migrations, through adapters/db/migrate.ts (or the
 * given stand-in). Checks first that PostgreSQL is reachable, so that failure names DATABASE_URL.
 */
export async function ensureDatabase(
  databaseUrl: string,
  prepare: PrepareDatabase = prepareDatabase,
  embedded?: EmbeddedPostgresOptions,
): Promise<DatabaseStatus> {
  const shown = redactDatabaseUrl(databaseUrl);
  const url = new URL(databaseUrl);
  // When given: nothing answering at a loopback DATABASE_URL starts the project-local PostgreSQL.
  const local = embedded && url.hostname ? await ensureEmbeddedPostgres(databaseUrl, embedded) : undefined;
  if (url.hostname) {
    // no hostname means a Unix socket (?host=/run/postgresql): let the driver report on it
    const port = url.port ? Number(url.port) : 5432;
    if (!(await canConnect({ host: url.hostname, port }, 3000))) {
      throw new Error(
        `PostgreSQL at ${url.hostname}:${port} is unreachable: start it or fix DATABASE_URL (now ${shown})`,
      );
    }
  }
  try {
    const { created, applied } = await prepare(databaseUrl);
    return { url: shown, created, applied, ...(local && { embedded: local }) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown }).code;
    throw new Error(
      `Preparing database ${shown} failed${typeof code === 'string' ? ` (${code})` : ''}: ${maskPassword(message, url)}`,
    );
  }
}

function maskPassword(text: string, url: URL): string {
  const password = decodeURIComponent(url.password);
  return password ? text.split(password).join('***').split(url.password).join('***') : text;
}
