-- Tamper-evident audit trail (adapters/db/audit.ts appends, contracts/audit-chain.ts verifies).
-- Every event belongs to a chain (`intent:<uuid>`, `tenant:<name>` or `global`), numbered 1, 2, 3…
-- (`chain_seq`) and linked to the previous event's hash (`prev_hash`). The hash is sha256 over the
-- RFC 8785 canonical JSON of the event, computed by the application (adapters/db/audit.ts): canonical
-- JSON cannot be reproduced reliably in SQL, so rows recorded before this migration keep `hash` NULL
-- ("legacy": numbered on their intent's chain in the order recorded, not chained; verification reports
-- them as not chained). A head per chain is advanced by a trigger with every row inserted, in the same
-- transaction, so a removed tail is detected. UPDATE, DELETE and TRUNCATE are refused by triggers;
-- only a superuser bypassing triggers (session_replication_role = replica) can change a row, which
-- verification then detects.

-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN     "chain" TEXT,
ADD COLUMN     "chain_seq" INTEGER,
ADD COLUMN     "hash" TEXT,
ADD COLUMN     "prev_hash" TEXT,
ADD COLUMN     "tenant" TEXT,
ALTER COLUMN "intent_id" DROP NOT NULL,
ALTER COLUMN "created_at" DROP DEFAULT;

-- Backfill: existing (legacy) rows join their intent's chain in the order they were recorded.
UPDATE "audit_events" AS a
SET "tenant" = i."tenant", "chain" = 'intent:' || a."intent_id"::text, "chain_seq" = n."seq"
FROM (
    SELECT "id", (row_number() OVER (PARTITION BY "intent_id" ORDER BY "id"))::INTEGER AS "seq"
    FROM "audit_events"
) AS n, "intents" AS i
WHERE n."id" = a."id" AND i."id" = a."intent_id";

ALTER TABLE "audit_events" ALTER COLUMN "chain" SET NOT NULL,
ALTER COLUMN "chain_seq" SET NOT NULL;

-- CreateTable
CREATE TABLE "audit_chain_heads" (
    "chain" TEXT NOT NULL,
    "tenant" TEXT,
    "seq" INTEGER NOT NULL,
    "hash" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_chain_heads_pkey" PRIMARY KEY ("chain")
);

-- Backfill: the head of each legacy chain is its last row (no hash).
INSERT INTO "audit_chain_heads" ("chain", "tenant", "seq", "hash")
SELECT "chain", min("tenant"), max("chain_seq"), NULL FROM "audit_events" GROUP BY "chain";

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_chain_chain_seq_key" ON "audit_events"("chain", "chain_seq");

-- CreateIndex
CREATE INDEX "audit_events_tenant_id_idx" ON "audit_events"("tenant", "id");

-- CreateIndex
CREATE INDEX "audit_chain_heads_tenant_idx" ON "audit_chain_heads"("tenant");

-- DropForeignKey
ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_intent_id_fkey";

-- AddForeignKey: an intent with audit events can no longer be deleted (it used to take them along).
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_intent_id_fkey" FOREIGN KEY ("intent_id") REFERENCES "intents"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Not in schema.prisma (Prisma does not model these): each row's chain follows from its intent or
-- tenant, seq starts at 1, hashes are sha256 hex.
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_chain_check" CHECK (
    ("intent_id" IS NOT NULL AND "tenant" IS NOT NULL AND "chain" = 'intent:' || "intent_id"::text)
    OR ("intent_id" IS NULL AND "tenant" IS NOT NULL AND "chain" = 'tenant:' || "tenant")
    OR ("intent_id" IS NULL AND "tenant" IS NULL AND "chain" = 'global')
),
ADD CONSTRAINT "audit_events_chain_seq_check" CHECK ("chain_seq" >= 1),
ADD CONSTRAINT "audit_events_hash_check" CHECK ("hash" IS NULL OR "hash" ~ '^[0-9a-f]{64}$'),
ADD CONSTRAINT "audit_events_prev_hash_check" CHECK ("prev_hash" IS NULL OR "prev_hash" ~ '^[0-9a-f]{64}$');

ALTER TABLE "audit_chain_heads" ADD CONSTRAINT "audit_chain_heads_seq_check" CHECK ("seq" >= 0),
ADD CONSTRAINT "audit_chain_heads_hash_check" CHECK ("hash" IS NULL OR "hash" ~ '^[0-9a-f]{64}$');

-- Append-only: no UPDATE, DELETE or TRUNCATE of audit rows or heads.
CREATE FUNCTION "audit_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER "audit_events_append_only" BEFORE UPDATE OR DELETE ON "audit_events"
    FOR EACH ROW EXECUTE FUNCTION "audit_refuse_change"();

CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_refuse_change"();

CREATE TRIGGER "audit_chain_heads_no_delete" BEFORE DELETE ON "audit_chain_heads"
    FOR EACH ROW EXECUTE FUNCTION "audit_refuse_change"();

CREATE TRIGGER "audit_chain_heads_no_truncate" BEFORE TRUNCATE ON "audit_chain_heads"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_refuse_change"();

-- A head only moves forward, one event at a time, on its own chain and tenant.
CREATE FUNCTION "audit_chain_heads_advance_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW."chain" <> OLD."chain" OR NEW."tenant" IS DISTINCT FROM OLD."tenant" OR NEW."seq" <> OLD."seq" + 1 THEN
        RAISE EXCEPTION 'audit_chain_heads: the head of % only advances by one event (seq % to %)',
            OLD."chain", OLD."seq", NEW."seq"
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER "audit_chain_heads_advance_only" BEFORE UPDATE ON "audit_chain_heads"
    FOR EACH ROW EXECUTE FUNCTION "audit_chain_heads_advance_only"();

-- Each row inserted must extend its chain's head (next seq, previous hash, same tenant) and carry a
-- hash; the head then points at it. Rows of one statement are checked in the order inserted.
CREATE FUNCTION "audit_events_extend_head"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW."hash" IS NULL THEN
        RAISE EXCEPTION 'audit_events: event % has no hash (only rows recorded before the chain may lack one)',
            NEW."event_key" USING ERRCODE = 'check_violation';
    END IF;
    UPDATE "audit_chain_heads"
    SET "seq" = NEW."chain_seq", "hash" = NEW."hash", "updated_at" = CURRENT_TIMESTAMP
    WHERE "chain" = NEW."chain" AND "seq" = NEW."chain_seq" - 1
      AND "hash" IS NOT DISTINCT FROM NEW."prev_hash" AND "tenant" IS NOT DISTINCT FROM NEW."tenant";
    IF NOT FOUND THEN
        IF NEW."chain_seq" = 1 AND NEW."prev_hash" IS NULL
           AND NOT EXISTS (SELECT 1 FROM "audit_chain_heads" WHERE "chain" = NEW."chain") THEN
            INSERT INTO "audit_chain_heads" ("chain", "tenant", "seq", "hash")
            VALUES (NEW."chain", NEW."tenant", 1, NEW."hash");
        ELSE
            RAISE EXCEPTION 'audit_events: event % (seq % of %) does not extend the chain''s head',
                NEW."event_key", NEW."chain_seq", NEW."chain" USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER "audit_events_extend_head" AFTER INSERT ON "audit_events"
    FOR EACH ROW EXECUTE FUNCTION "audit_events_extend_head"();
