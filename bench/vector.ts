/**
 * Vector search at 100k intents (pgvector, HNSW): inserts N synthetic unit vectors (384 dimensions, the
 * offline model's) into a throw-away database migrated like production, builds the HNSW index, then runs Q
 * queries through the production path (adapters/db/embeddings.ts nearestIntents: tenant-filtered, iterative
 * index scan) and the same queries as an exact search (sequential scan). Reports p50/p99 latency of both and
 * recall@10 (HNSW's top 10 against the exact top 10). JSON in bench/results/vector-<time>.json.
 *   npx tsx bench/vector.ts            (VECTORS=100000 QUERIES=200 EF_SEARCH=100 change it)
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createDatabase } from '../adapters/db/client';
import { nearestIntents, vectorLiteral } from '../adapters/db/embeddings';
import { prepareDatabase } from '../adapters/db/migrate';
import { normalise } from '../adapters/llm/local-embedding';
import { loadConfig } from '../config';
import { percentile, round } from './stack';

const VECTORS = Number(process.env.VECTORS ?? 100_000);
const QUERIES = Number(process.env.QUERIES ?? 200);
const EF_SEARCH = Number(process.env.EF_SEARCH ?? 100);
const DIMENSION = 384;
const CLUSTERS = 500; // intents come in families (CRUD APIs, CLIs …): clustered data, as real embeddings are
const BATCH = 2_000;
const K = 10;
const TENANT = 'bench';
const MODEL = 'bench-synthetic';

/** A seeded generator (mulberry32) and Gaussian noise, so every run measures the same data. */
function random(seed: number) {
  let a = seed;
  const uniform = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gaussian = () => Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform());
  return { uniform, gaussian };
}

const rng = random(18);
const centroids = Array.from({ length: CLUSTERS }, () =>
  normalise(Array.from({ length: DIMENSION }, () => rng.gaussian())),
);
/** A point near a random centroid: noise large enough that the neighbourhoods overlap. */
const sample = () => {
  const c = centroids[Math.floor(rng.uniform() * CLUSTERS)]!;
  return normalise(c.map((x) => x + 0.06 * rng.gaussian()));
};

async function main(): Promise<void> {
  const base = new URL(loadConfig().databaseUrl);
  const name = `qlp_bench_vector_${randomBytes(3).toString('hex')}`;
  base.pathname = `/${name}`;
  const url = base.toString();
  const admin = new Client({ connectionString: (() => ((base.pathname = '/postgres'), base.toString()))() });
  await admin.connect();
  const pg = new Client({ connectionString: url });
  const db = createDatabase(url, { maxConnections: 2 });
  try {
    await prepareDatabase(url);
    await pg.connect();
    const [{ version }] = (
      await pg.query<{ version: string }>("SELECT extversion AS version FROM pg_extension WHERE extname = 'vector'")
    ).rows as [{ version: string }];
    console.log(`database ${name}, pgvector ${version}: inserting ${VECTORS} vectors of ${DIMENSION} dimensions`);

    // Bulk load without the index, then build it: how an index over existing data is made (and far faster).
    await pg.query('DROP INDEX intent_embeddings_hnsw_384');
    const insertStarted = performance.now();
    for (let offset = 0; offset < VECTORS; offset += BATCH) {
      const count = Math.min(BATCH, VECTORS - offset);
      const vectors = Array.from({ length: count }, () => vectorLiteral(sample()));
      await pg.query('BEGIN');
      const { rows } = await pg.query<{ id: string }>(
        `INSERT INTO intents (id, tenant, text, workflow_id, updated_at)
         SELECT gen_random_uuid(), $1, 'bench intent ' || g, 'bench-' || gen_random_uuid(), now()
         FROM generate_series(1, $2::int) g RETURNING id`,
        [TENANT, count],
      );
      await pg.query(
        `INSERT INTO intent_embeddings (intent_id, tenant, model, dimension, embedding)
         SELECT id, $1, $2, ${DIMENSION}, v::vector FROM unnest($3::uuid[], $4::text[]) AS t(id, v)`,
        [TENANT, MODEL, rows.map((r) => r.id), vectors],
      );
      await pg.query('COMMIT');
    }
    const insertSeconds = (performance.now() - insertStarted) / 1000;
    console.log(`inserted in ${round(insertSeconds)} s (${Math.round(VECTORS / insertSeconds)}/s); building HNSW`);
    const indexStarted = performance.now();
    await pg.query("SET maintenance_work_mem = '1GB'");
    await pg.query(
      `CREATE INDEX intent_embeddings_hnsw_384 ON intent_embeddings
       USING hnsw ((embedding::vector(${DIMENSION})) vector_cosine_ops) WHERE dimension = ${DIMENSION}`,
    );
    await pg.query('ANALYZE intent_embeddings');
    const indexSeconds = (performance.now() - indexStarted) / 1000;
    console.log(`HNSW built in ${round(indexSeconds)} s; ${QUERIES} queries, k=${K}, ef_search=${EF_SEARCH}`);

    const queries = Array.from({ length: QUERIES }, sample);
    const timed = async (exact: boolean) => {
      const latencies: number[] = [];
      const answers: string[][] = [];
      for (const vector of queries) {
        const started = performance.now();
        const found = await nearestIntents(db, {
          tenant: TENANT,
          model: MODEL,
          vector,
          limit: K,
          efSearch: EF_SEARCH,
          exact,
        });
        latencies.push(performance.now() - started);
        answers.push(found.map((n) => n.intentId));
      }
      return { latencies, answers };
    };
    await timed(false); // warm the index into shared buffers, as a running service has it
    const hnsw = await timed(false);
    const exact = await timed(true);
    const recalls = hnsw.answers.map((ids, i) => ids.filter((id) => exact.answers[i]!.includes(id)).length / K);
    const plan = (
      await pg.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT intent_id FROM intent_embeddings WHERE dimension = ${DIMENSION} AND model = $1 AND tenant = $2
         ORDER BY embedding::vector(${DIMENSION}) <=> $3::vector(${DIMENSION}) LIMIT ${K}`,
        [MODEL, TENANT, vectorLiteral(queries[0]!)],
      )
    ).rows.map((r) => r['QUERY PLAN'].replace(/'\[[^\]]*\]'/g, "'[…]'"));
    const size = (
      await pg.query<{ size: string }>("SELECT pg_size_pretty(pg_relation_size('intent_embeddings_hnsw_384')) AS size")
    ).rows[0]!.size;

    const stats = (latencies: number[]) => ({
      p50Ms: round(percentile(latencies, 50), 2),
      p99Ms: round(percentile(latencies, 99), 2),
      meanMs: round(latencies.reduce((a, b) => a + b, 0) / latencies.length, 2),
    });
    const result = {
      bench: 'vector',
      at: new Date().toISOString(),
      pgvector: version,
      vectors: VECTORS,
      dimension: DIMENSION,
      clusters: CLUSTERS,
      queries: QUERIES,
      k: K,
      efSearch: EF_SEARCH,
      insert: { seconds: round(insertSeconds), perSecond: Math.round(VECTORS / insertSeconds) },
      index: { kind: 'hnsw vector_cosine_ops (m 16, ef_construction 64)', buildSeconds: round(indexSeconds), size },
      hnsw: stats(hnsw.latencies),
      exact: stats(exact.latencies),
      recallAt10: round(recalls.reduce((a, b) => a + b, 0) / recalls.length, 4),
      recallAt10Min: round(Math.min(...recalls), 2),
      speedupP50: round(percentile(exact.latencies, 50) / percentile(hnsw.latencies, 50), 1),
      hnswPlan: plan,
      note: 'latency is the production call (a transaction: SET LOCAL ef_search and iterative_scan, then the query) over a local socket on a 2-core machine',
    };
    const dir = join(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `vector-${result.at.slice(0, 19).replace(/[T:]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(
      `HNSW p50 ${result.hnsw.p50Ms} ms, p99 ${result.hnsw.p99Ms} ms; exact p50 ${result.exact.p50Ms} ms, p99 ${result.exact.p99Ms} ms ` +
        `(HNSW ${result.speedupP50}× faster at the median); recall@10 ${result.recallAt10} (min ${result.recallAt10Min})\n${file}`,
    );
  } finally {
    await db.$disconnect();
    await pg.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
