-- Intent embeddings for similarity search (pgvector; docs/database.md#pgvector, docs/similar-intents.md).
-- The extension must be installed on the server (Debian: postgresql-15-pgvector, or scripts/pgvector-setup).
CREATE EXTENSION IF NOT EXISTS vector;

-- One vector per (intent, model). The column has no fixed dimension, so the offline model and any provider's
-- model share the table; each row records its model and dimension, and HNSW indexes are per dimension
-- (partial expression indexes: `embedding::vector(<dimension>)` where `dimension = <dimension>`).
CREATE TABLE "intent_embeddings" (
    "intent_id" UUID NOT NULL,
    "tenant" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "dimension" INTEGER NOT NULL,
    "embedding" vector NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "intent_embeddings_pkey" PRIMARY KEY ("intent_id", "model"),
    CONSTRAINT "intent_embeddings_dimension_check" CHECK ("dimension" BETWEEN 1 AND 2000 AND vector_dims("embedding") = "dimension")
);

CREATE INDEX "intent_embeddings_tenant_model_idx" ON "intent_embeddings"("tenant", "model");

-- The offline model's dimension (local-ngram-v1: 384). Other dimensions get theirs when first stored
-- (adapters/db/embeddings.ts ensureDimensionIndex), named the same way.
CREATE INDEX "intent_embeddings_hnsw_384" ON "intent_embeddings"
    USING hnsw (("embedding"::vector(384)) vector_cosine_ops) WHERE "dimension" = 384;

-- The similar intents found for an intent at submission (its read model): the neighbours' status, scores,
-- capsule and approver are read live from their own rows.
CREATE TABLE "intent_similarities" (
    "intent_id" UUID NOT NULL,
    "similar_intent_id" UUID NOT NULL,
    "rank" INTEGER NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "model" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "intent_similarities_pkey" PRIMARY KEY ("intent_id", "similar_intent_id")
);

ALTER TABLE "intent_embeddings" ADD CONSTRAINT "intent_embeddings_intent_id_fkey" FOREIGN KEY ("intent_id") REFERENCES "intents"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "intent_similarities" ADD CONSTRAINT "intent_similarities_intent_id_fkey" FOREIGN KEY ("intent_id") REFERENCES "intents"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "intent_similarities" ADD CONSTRAINT "intent_similarities_similar_intent_id_fkey" FOREIGN KEY ("similar_intent_id") REFERENCES "intents"("id") ON DELETE CASCADE ON UPDATE CASCADE;
