import { ApplicationFailure } from '@temporalio/activity';
import { capsuleKey, filesDigest, loadFiles } from '../adapters/storage/artifacts';
import type { ObjectStore } from '../adapters/storage/s3';
import type { ArtifactRef, CapsuleRef } from '../contracts/artifacts';
import { buildCapsule, capsuleReports } from '../capsule/build';
import type { CapsuleInput } from '../capsule/manifest';
import { failingArtifacts } from './failures';
import { heartbeating } from './heartbeat';

export interface PackageCapsuleInput extends CapsuleInput {
  artifacts: ArtifactRef[];
}

export function createPackagingActivities(store: ObjectStore) {
  return {
    /**
     * Builds the capsule (capsule/) and uploads it under a key fixed by intent and version.
     * A retry after a successful upload finds the object and returns it rather than writing a second one.
     */
    packageCapsule: failingArtifacts(
      heartbeating(async (input: PackageCapsuleInput): Promise<CapsuleRef> => {
        const key = capsuleKey(input.intentId, input.version);
        const ref = { capsuleId: input.capsuleId, version: input.version, bucket: store.bucket, key };
        const existing = await store.stat(key);
        if (existing?.metadata['capsule-id'] === input.capsuleId && existing.metadata['sha256']) {
          const fileCount = Number(existing.metadata['file-count'] ?? 0);
          return { ...ref, sha256: existing.metadata['sha256'], size: existing.size, fileCount };
        }
        const projectFiles = await loadFiles(store, input.artifacts);
        assertReviewed(input, filesDigest(projectFiles));
        const reports = [];
        for (const report of capsuleReports(input.validation))
          reports.push({ path: report.path, content: await store.getBuffer(report.key) });
        const capsule = await buildCapsule(input, projectFiles, reports);
        await store.put(key, capsule.archive, {
          'Content-Type': 'application/gzip',
          'capsule-id': input.capsuleId,
          sha256: capsule.sha256,
          'file-count': String(capsule.fileCount),
        });
        return { ...ref, sha256: capsule.sha256, size: capsule.archive.length, fileCount: capsule.fileCount };
      }),
    ),
  };
}

/**
 * Only what was reviewed ships: the files must be the ones validation digested, and the approval must be
 * for that review. (Intents validated before digests existed carry none, and are packaged as approved.)
 */
function assertReviewed(input: PackageCapsuleInput, files: string): void {
  const reviewed = input.validation.score?.digest;
  if (!reviewed) return;
  if (files !== reviewed.files) {
    throw ApplicationFailure.nonRetryable(
      `the files to package (digest ${files.slice(0, 12)}…) are not the files that were validated (${reviewed.files.slice(0, 12)}…)`,
      'UnreviewedContent',
    );
  }
  const approved = input.approval.digest;
  if (approved && approved !== reviewed.review) {
    throw ApplicationFailure.nonRetryable(
      `the approval is for review digest ${approved.slice(0, 12)}…, not for this validation (${reviewed.review.slice(0, 12)}…)`,
      'UnreviewedContent',
    );
  }
}
