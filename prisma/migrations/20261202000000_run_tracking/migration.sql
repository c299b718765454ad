-- AlterTable
ALTER TABLE "intents" ADD COLUMN     "step_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "run_id" TEXT,
ADD COLUMN     "step_at" TIMESTAMPTZ(3);
