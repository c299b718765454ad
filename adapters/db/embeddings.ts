import { Prisma } from '../../generated/prisma/client';
import type { Database } from './client';

// pgvector access through typed raw queries (Prisma has no vector type). Vectors are stored without a fixed
// dimension; every query names its dimension, so it runs on that dimension's partial HNSW index
// (`embedding::vector(<d>)` where `dimension = <d>`), created by the migration for 384 and here for others.

export interface StoredEmbedding {
  intentId: string;
  tenant: string;
  model: string;
  vector: number[];
}

export interface Neighbour {
  intentId: string;
  /** Cosine similarity, 1 − cosine distance. */
  similarity: number;
}

/** pgvector's text form: `[0.1,0.2,…]`; non-finite numbers are refused here rather than by the server. */
export function vectorLiteral(vector: number[]): string {
  if (!vector.every(Number.isFinite)) throw new Error('an embedding holds a non-finite number');
  return `[${vector.join(',')}]`;
}

/** The dimension as SQL: only an integer pgvector's HNSW accepts ever reaches the query text. */
function dimensionSql(dimension: number): Prisma.Sql {
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 2000) {
    throw new Error(`embedding dimension ${dimension} is outside 1–2000 (pgvector's HNSW limit for vector)`);
  }
  return Prisma.raw(String(dimension));
}

const indexed = new Set<number>([384]);

/** The partial HNSW index for one dimension (idempotent; once per process and dimension). */
export async function ensureDimensionIndex(db: Database, dimension: number): Promise<void> {
  if (indexed.has(dimension)) return;
  const d = dimensionSql(dimension).sql;
  await db.$executeRawUnsafe(
    `CREATE INDEX IF NOT EXISTS "intent_embeddings_hnsw_${d}" ON "intent_embeddings" ` +
      `USING hnsw (("embedding"::vector(${d})) vector_cosine_ops) WHERE "dimension" = ${d}`,
  );
  indexed.add(dimension);
}

/** Stores (or replaces) an intent's vector for a model. */
export async function storeEmbedding(db: Database, row: StoredEmbedding): Promise<void> {
  await ensureDimensionIndex(db, row.vector.length);
  await db.$executeRaw`
    INSERT INTO intent_embeddings (intent_id, tenant, model, dimension, embedding)
    VALUES (${row.intentId}::uuid, ${row.tenant}, ${row.model}, ${row.vector.length}, ${vectorLiteral(row.vector)}::vector)
    ON CONFLICT (intent_id, model) DO UPDATE SET embedding = EXCLUDED.embedding, dimension = EXCLUDED.dimension,
      tenant = EXCLUDED.tenant, created_at = now()`;
}

export interface NearestQuery {
  tenant: string;
  model: string;
  vector: number[];
  limit: number;
  /** Left out of the answer (the intent itself). */
  excludeIntentId?: string;
  /** HNSW's candidate list (pgvector's default 40); larger: better recall, slower. */
  efSearch?: number;
  /** true: exact search (sequential scan), for the bench's ground truth. */
  exact?: boolean;
}

/**
 * The nearest vectors of one tenant and model, most similar first. HNSW with pgvector's iterative index scan,
 * so the tenant filter does not starve the answer when other tenants' vectors are the nearer ones.
 */
export async function nearestIntents(db: Database, query: NearestQuery): Promise<Neighbour[]> {
  const d = dimensionSql(query.vector.length);
  const literal = vectorLiteral(query.vector);
  const rows = await db.$transaction(async (tx) => {
    if (query.exact) {
      await tx.$executeRawUnsafe('SET LOCAL enable_indexscan = off');
      await tx.$executeRawUnsafe('SET LOCAL enable_bitmapscan = off');
    } else {
      await tx.$executeRawUnsafe(`SET LOCAL hnsw.ef_search = ${Math.max(query.limit, query.efSearch ?? 100)}`);
      await tx.$executeRawUnsafe(`SET LOCAL hnsw.iterative_scan = strict_order`);
    }
    return tx.$queryRaw<{ intent_id: string; distance: number }[]>`
      SELECT intent_id::text AS intent_id, (embedding::vector(${d}) <=> ${literal}::vector(${d}))::float8 AS distance
      FROM intent_embeddings
      WHERE dimension = ${d} AND model = ${query.model} AND tenant = ${query.tenant}
        AND intent_id <> ${query.excludeIntentId ?? '00000000-0000-0000-0000-000000000000'}::uuid
      ORDER BY embedding::vector(${d}) <=> ${literal}::vector(${d})
      LIMIT ${query.limit}`;
  });
  return rows.map((row) => ({ intentId: row.intent_id, similarity: 1 - row.distance }));
}

/** Replaces the similar intents recorded for an intent (a retried activity writes the same rows). */
export async function recordSimilarIntents(
  db: Database,
  intentId: string,
  model: string,
  matches: Neighbour[],
): Promise<void> {
  await db.$transaction([
    db.intentSimilarity.deleteMany({ where: { intentId } }),
    db.intentSimilarity.createMany({
      data: matches.map((match, rank) => ({
        intentId,
        similarIntentId: match.intentId,
        rank,
        score: match.similarity,
        model,
      })),
    }),
  ]);
}

/** The model and dimension an intent was embedded with (the newest, should there be several). */
export async function embeddingOf(
  db: Database,
  intentId: string,
): Promise<{ model: string; dimension: number } | undefined> {
  const [row] = await db.$queryRaw<{ model: string; dimension: number }[]>`
    SELECT model, dimension FROM intent_embeddings WHERE intent_id = ${intentId}::uuid ORDER BY created_at DESC LIMIT 1`;
  return row;
}

/** Stored vectors per model, for deciding whether a model change needs a re-embed. */
export async function embeddingModels(db: Database): Promise<{ model: string; count: number }[]> {
  const rows = await db.$queryRaw<{ model: string; count: bigint }[]>`
    SELECT model, COUNT(*) AS count FROM intent_embeddings GROUP BY model ORDER BY model`;
  return rows.map((row) => ({ model: row.model, count: Number(row.count) }));
}

/** Intents with no vector of `model`, in id order after `after`: one page of a re-embed. */
export async function intentsMissingEmbedding(
  db: Database,
  model: string,
  after: string | undefined,
  limit: number,
): Promise<{ id: string; tenant: string; text: string }[]> {
  return db.$queryRaw<{ id: string; tenant: string; text: string }[]>`
    SELECT i.id::text AS id, i.tenant, i.text FROM intents i
    WHERE i.id > ${after ?? '00000000-0000-0000-0000-000000000000'}::uuid
      AND NOT EXISTS (SELECT 1 FROM intent_embeddings e WHERE e.intent_id = i.id AND e.model = ${model})
    ORDER BY i.id
    LIMIT ${limit}`;
}

/** How many intents still have no vector of `model`. */
export async function countMissingEmbedding(db: Database, model: string): Promise<number> {
  const [row] = await db.$queryRaw<{ count: bigint }[]>`
    SELECT COUNT(*) AS count FROM intents i
    WHERE NOT EXISTS (SELECT 1 FROM intent_embeddings e WHERE e.intent_id = i.id AND e.model = ${model})`;
  return Number(row?.count ?? 0);
}
