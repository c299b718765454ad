import { ApplicationFailure } from '@temporalio/activity';
import { capsuleKey, filesDigest, loadFiles } from '../adapters/storage/artifacts';
import type { ObjectStore } from '../adapters/storage/s3';
import type { ArtifactRef, CapsuleRef } from '../contracts/artifacts';
import type { CapsuleSigner } from '../contracts/capsule';
import { buildCapsule, capsuleReports } from '../capsule/build';
import type { CapsuleInput } from '../capsule/manifest';
import { version } from '../package.json';
import { failingArtifacts } from './failures';
import { heartbeating } from './heartbeat';

export interface PackageCapsuleInput extends CapsuleInput {
  artifacts: ArtifactRef[];
}

const PLATFORM = { name: 'quantumlayer', version };

export function createPackagingActivities(store: ObjectStore, signer: CapsuleSigner | undefined) {
  return {
    /**
     * Builds the signed capsule (capsule/) and uploads it under a key fixed by intent and version. The build
     * is deterministic, so a retry that races an earlier attempt writes the same bytes; one that finds the
     * object (by capsule id) returns it rather than writing again.
     */
    packageCapsule: failingArtifacts(
      heartbeating(async (input: PackageCapsuleInput): Promise<CapsuleRef> => {
        if (!signer) {
          throw ApplicationFailure.nonRetryable('this worker has no capsule signing key', 'NoSigningKey');
        }
        const key = capsuleKey(input.intentId, input.version);
        const ref = { capsuleId: input.capsuleId, version: input.version, bucket: store.bucket, key };
        const projectFiles = await loadFiles(store, input.artifacts);
        assertReviewed(input, filesDigest(projectFiles));
        const reports = [];
        for (const report of capsuleReports(input.validation))
          reports.push({ path: report.path, content: await store.getBuffer(report.key) });
        const generators = input.artifacts.flatMap((a) =>
          a.generator ? [{ taskId: a.taskId, generator: a.generator }] : [],
        );
        const capsule = await buildCapsule({ ...input, generators }, projectFiles, reports, {
          signer,
          platform: PLATFORM,
        });
        const built = {
          sha256: capsule.sha256,
          size: capsule.archive.length,
          fileCount: capsule.fileCount,
          keyId: capsule.keyId,
        };
        // An earlier attempt's object stays: never a second, different object under the same key.
        const existing = await store.stat(key);
        const stored =
          existing?.metadata['capsule-id'] === input.capsuleId && existing.metadata['sha256']
            ? {
                sha256: existing.metadata['sha256'],
                size: existing.size,
                fileCount: Number(existing.metadata['file-count'] ?? 0),
                keyId: existing.metadata['key-id'] ?? capsule.keyId,
              }
            : undefined;
        if (!stored) {
          await store.put(key, capsule.archive, {
            'Content-Type': 'application/gzip',
            'capsule-id': input.capsuleId,
            sha256: capsule.sha256,
            'file-count': String(capsule.fileCount),
            'key-id': capsule.keyId,
          });
        }
        return {
          ...ref,
          ...(stored ?? built),
          format: 'quantumcapsule/v2',
          ...(capsule.verdict && { verdict: capsule.verdict }),
          frameworks: capsule.frameworks,
          metadata: capsule.metadata,
          createdAt: capsule.createdAt,
        };
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
