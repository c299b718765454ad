import type {
  ComplianceSummary,
  DynamicSummary,
  LayerFailure,
  StaticReviewSummary,
  ValidationScoreSummary,
} from './validation';
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

export interface ValidationSummary {
  typecheck: {
    status: 'passed' | 'failed' | 'not_assessed';
    filesChecked: number;
    errorCount: number;
    /** First diagnostics, for a human at the gate; the full list is in the report. */
    firstErrors: string[];
  };
  reportKey: string;
  /** Layer 1 (static review) and layer 3 (compliance): a summary, or why the layer could not run. */
  static?: StaticReviewSummary | LayerFailure;
  compliance?: ComplianceSummary | LayerFailure;
  /** Layer 2 (build and tests in the sandbox): a summary, or why it could not run. */
  dynamic?: DynamicSummary | LayerFailure;
  /** Scores 0–100, verdict and the keys of the JSON report and SARIF. */
  score?: ValidationScoreSummary;
}

export interface CapsuleRef {
  capsuleId: string;
  version: number;
  bucket: string;
  key: string;
  sha256: string;
  size: number;
  fileCount: number;
}
