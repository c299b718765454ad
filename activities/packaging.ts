import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { create as createTar } from 'tar';
import type { ObjectStore } from '../adapters/storage/s3';
import type { ArtifactRef, CapsuleRef, FileEntry, ValidationSummary } from '../contracts/artifacts';
import type { DecisionRecord } from '../contracts/decision';
import type { Plan } from '../contracts/plan';
import { loadFiles, sha256 } from './artifacts';

export const CAPSULE_FORMAT = 'quantumcapsule/v1';

export interface PackageCapsuleInput {
  capsuleId: string;
  intentId: string;
  intentText: string;
  version: number;
  plan: Plan;
  artifacts: ArtifactRef[];
  validation: ValidationSummary;
  approval: DecisionRecord;
  workflow: { workflowId: string; runId: string };
}

/** The manifest at the root of every capsule; docs/capsule-format.md describes it. */
export interface CapsuleManifest {
  format: typeof CAPSULE_FORMAT;
  id: string;
  intentId: string;
  version: number;
  createdAt: string;
  project: { name: string; planner: string; tasks: { id: string; type: string; description: string }[] };
  intent: string;
  validation: ValidationSummary['typecheck'] & {
    verdict?: string;
    scores?: NonNullable<ValidationSummary['score']>['scores'];
  };
  approval: { decision: string; approver: string; reason?: string };
  provenance: { workflowId: string; runId: string };
  /** Every other file in the archive, with its sha256. */
  files: FileEntry[];
}

export const capsuleKey = (intentId: string, version: number) => `capsules/${intentId}/${intentId}-v${version}.tar.gz`;

export function createPackagingActivities(store: ObjectStore) {
  return {
    /**
     * Builds the capsule archive and uploads it under a key fixed by intent and version.
     * A retry after a successful upload finds the object and returns it rather than writing a second one.
     */
    async packageCapsule(input: PackageCapsuleInput): Promise<CapsuleRef> {
      const key = capsuleKey(input.intentId, input.version);
      const existing = await store.stat(key);
      if (existing?.metadata['capsule-id'] === input.capsuleId && existing.metadata['sha256']) {
        return {
          capsuleId: input.capsuleId,
          version: input.version,
          bucket: store.bucket,
          key,
          sha256: existing.metadata['sha256'],
          size: existing.size,
          fileCount: Number(existing.metadata['file-count'] ?? 0),
        };
      }
      const { archive, fileCount } = await buildArchive(input, await loadFiles(store, input.artifacts), store);
      const digest = sha256(archive);
      await store.put(key, archive, {
        'Content-Type': 'application/gzip',
        'capsule-id': input.capsuleId,
        sha256: digest,
        'file-count': String(fileCount),
      });
      return {
        capsuleId: input.capsuleId,
        version: input.version,
        bucket: store.bucket,
        key,
        sha256: digest,
        size: archive.length,
        fileCount,
      };
    },
  };
}

async function buildArchive(
  input: PackageCapsuleInput,
  projectFiles: { path: string; content: Buffer }[],
  store: ObjectStore,
): Promise<{ archive: Buffer; fileCount: number }> {
  const contents = new Map<string, Buffer>();
  for (const file of projectFiles) contents.set(`files/${file.path}`, file.content);
  contents.set('reports/validation.json', await store.getBuffer(input.validation.reportKey));
  const { score } = input.validation;
  if (score) {
    contents.set('reports/validation-report.json', await store.getBuffer(score.reportKey));
    contents.set('reports/validation.sarif', await store.getBuffer(score.sarifKey));
  }
  const { dynamic } = input.validation;
  // Layer 2's run: steps, test results and output excerpts from inside the sandbox (no platform secrets there).
  if (dynamic?.status === 'assessed') contents.set('reports/dynamic.json', await store.getBuffer(dynamic.reportKey));

  const files = [...contents].map(([path, content]) => ({ path, sha256: sha256(content), size: content.length }));
  const manifest: CapsuleManifest = {
    format: CAPSULE_FORMAT,
    id: input.capsuleId,
    intentId: input.intentId,
    version: input.version,
    createdAt: new Date().toISOString(),
    project: {
      name: input.plan.projectName,
      planner: input.plan.planner,
      tasks: input.plan.tasks.map(({ id, type, description }) => ({ id, type, description })),
    },
    intent: input.intentText,
    validation: {
      ...input.validation.typecheck,
      ...(score && { verdict: score.verdict, scores: score.scores }),
    },
    approval: { decision: input.approval.decision, approver: input.approval.approver, reason: input.approval.reason },
    provenance: input.workflow,
    files,
  };
  contents.set('capsule.json', Buffer.from(JSON.stringify(manifest, null, 2)));

  const workDir = await mkdtemp(join(tmpdir(), `qlp-capsule-${input.intentId}-`));
  try {
    for (const [path, content] of contents) {
      await mkdir(dirname(join(workDir, path)), { recursive: true });
      await writeFile(join(workDir, path), content);
    }
    const entries = ['capsule.json', ...files.map((f) => f.path)];
    const chunks: Buffer[] = [];
    // portable + fixed mtime: the archive depends on its contents only, not on this machine.
    for await (const chunk of createTar({ gzip: true, cwd: workDir, portable: true, mtime: new Date(0) }, entries)) {
      chunks.push(chunk as Buffer);
    }
    return { archive: Buffer.concat(chunks), fileCount: files.length };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
