import type { CapsuleMetadata } from './capsule';
import type { LlmUsage } from './usage';

/** A file a task produced; its content lives in S3 under the task's prefix. */
export interface FileEntry {
  path: string;
  sha256: string;
  size: number;
}

/** What workflow histories carry for a task's output: a reference, never the content. */
export interface ArtifactRef {
  taskId: string;
  /** S3 key of the JSON manifest listing the task's files. */
  manifestKey: string;
  fileCount: number;
  bytes: number;
  /** How the producing activity ran: its attempt number and wall-clock times. */
  run?: ActivityRun;
  /** Which agent produced it, e.g. `llm codegen/v1` or `offline-catalogue-v1 rest-crud-service`. */
  generator?: string;
  /** What the agent's LLM calls consumed; the workflow adds it to the intent's spend. */
  usage?: LlmUsage;
}

export interface ActivityRun {
  attempt: number;
  startedAt: string;
  finishedAt: string;
}

export interface ArtifactManifest {
  intentId: string;
  taskId: string;
  files: (FileEntry & { key: string })[];
}

export interface CapsuleRef {
  capsuleId: string;
  version: number;
  bucket: string;
  key: string;
  sha256: string;
  size: number;
  fileCount: number;
  /** v2 capsules (absent on v1 refs in older histories): format, signing key, and what the capsule API filters on. */
  format?: string;
  keyId?: string;
  verdict?: string;
  /** Each framework's status, e.g. {"HIPAA": "pass"}. */
  frameworks?: Record<string, string>;
  metadata?: CapsuleMetadata;
  /** capsule.json's createdAt (workflow time, so a rebuilt archive is byte-identical). */
  createdAt?: string;
}
