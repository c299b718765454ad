-- CreateEnum
CREATE TYPE "IntentStatus" AS ENUM ('RECEIVED', 'PLANNING', 'EXECUTING', 'VALIDATING', 'AWAITING_APPROVAL', 'PACKAGING', 'COMPLETED', 'REJECTED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "TaskStatus" AS ENUM ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED');

-- CreateTable
CREATE TABLE "intents" (
    "id" UUID NOT NULL,
    "tenant" TEXT NOT NULL DEFAULT 'default',
    "text" TEXT NOT NULL,
    "status" "IntentStatus" NOT NULL DEFAULT 'RECEIVED',
    "status_reason" TEXT,
    "workflow_id" TEXT NOT NULL,
    "run_id" TEXT,
    "idempotency_key" TEXT,
    "request_hash" TEXT,
    "seq" INTEGER NOT NULL DEFAULT 0,
    "plan" JSONB,
    "validation" JSONB,
    "gate" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "intents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tasks" (
    "intent_id" UUID NOT NULL,
    "task_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "dependencies" TEXT[],
    "priority" INTEGER NOT NULL DEFAULT 0,
    "status" "TaskStatus" NOT NULL DEFAULT 'PENDING',
    "seq" INTEGER NOT NULL DEFAULT 0,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "artifact_key" TEXT,
    "file_count" INTEGER,
    "error" TEXT,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "tasks_pkey" PRIMARY KEY ("intent_id","task_id")
);

-- CreateTable
CREATE TABLE "capsules" (
    "id" UUID NOT NULL,
    "intent_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "bucket" TEXT NOT NULL,
    "object_key" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "file_count" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "capsules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "event_key" TEXT NOT NULL,
    "intent_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "data" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "intents_workflow_id_key" ON "intents"("workflow_id");

-- CreateIndex
CREATE INDEX "intents_created_at_id_idx" ON "intents"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "intents_tenant_idempotency_key_key" ON "intents"("tenant", "idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "capsules_intent_id_key" ON "capsules"("intent_id");

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_event_key_key" ON "audit_events"("event_key");

-- CreateIndex
CREATE INDEX "audit_events_intent_id_id_idx" ON "audit_events"("intent_id", "id");

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_intent_id_fkey" FOREIGN KEY ("intent_id") REFERENCES "intents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "capsules" ADD CONSTRAINT "capsules_intent_id_fkey" FOREIGN KEY ("intent_id") REFERENCES "intents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_intent_id_fkey" FOREIGN KEY ("intent_id") REFERENCES "intents"("id") ON DELETE CASCADE ON UPDATE CASCADE;
