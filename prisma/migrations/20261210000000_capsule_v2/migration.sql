-- Capsule v2: a capsule per approved version of an intent, with what the capsule API lists and filters on.
DROP INDEX "capsules_intent_id_key";

-- AlterTable
ALTER TABLE "capsules" ADD COLUMN     "format" TEXT NOT NULL DEFAULT 'quantumcapsule/v1',
ADD COLUMN     "key_id" TEXT,
ADD COLUMN     "verdict" TEXT,
ADD COLUMN     "frameworks" JSONB,
ADD COLUMN     "metadata" JSONB;

-- CreateIndex
CREATE UNIQUE INDEX "capsules_intent_id_version_key" ON "capsules"("intent_id", "version");

-- CreateIndex
CREATE INDEX "capsules_created_at_id_idx" ON "capsules"("created_at" DESC, "id" DESC);

-- CreateTable
CREATE TABLE "signing_keys" (
    "key_id" TEXT NOT NULL,
    "algorithm" TEXT NOT NULL,
    "public_key_pem" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retired_at" TIMESTAMPTZ(3),

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("key_id")
);
