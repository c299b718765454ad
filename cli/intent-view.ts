import type { ValidationSummary } from '../contracts/artifacts';
import type { IntentStatus } from '../contracts/intent';
import type { GateState } from '../contracts/state';

/** The JSON the API returns (see api/intent-views.ts); the CLI only reads it. */
export interface TaskView {
  id: string;
  type: string;
  description: string;
  dependencies: string[];
  status: string;
  fileCount: number | null;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface CapsuleView {
  id: string;
  version: number;
  sha256: string;
  sizeBytes: number;
  fileCount: number;
  location: string;
  download: string;
}

export interface IntentView {
  id: string;
  tenant: string;
  text: string;
  status: IntentStatus;
  statusReason: string | null;
  workflowId: string;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  tasks?: TaskView[];
  validation: ValidationSummary | null;
  gate: GateState | null;
  capsule: CapsuleView | null;
  links: { self: string; decision: string; temporalUi: string };
}

export interface IntentPage {
  items: IntentView[];
  nextCursor: string | null;
}

export interface HealthCheck {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: Record<string, HealthCheck>;
}

export interface DecisionResponse {
  intentId: string;
  accepted: boolean;
  decision: { decision: 'approve' | 'reject'; approver: string; reason?: string; via: string };
  links: { self: string };
}
