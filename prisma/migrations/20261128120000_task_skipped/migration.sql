-- AlterEnum
ALTER TYPE "TaskStatus" ADD VALUE 'SKIPPED';
