import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../generated/prisma/client';

export type Database = PrismaClient;

/** A Prisma client over node-postgres; no query-engine binary is involved. */
export function createDatabase(databaseUrl: string, options: { maxConnections?: number } = {}): Database {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.maxConnections ?? 10 });
  // Prisma's defaults (2 s to get a connection, 5 s to finish) fail transactions on a loaded machine, where
  // waiting a little is right: a read-model write that gives up only to be retried gains nothing.
  return new PrismaClient({ adapter, transactionOptions: { maxWait: 15_000, timeout: 30_000 } });
}
