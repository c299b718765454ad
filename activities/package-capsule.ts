import { capsuleKey, loadFiles } from '../adapters/storage/artifacts';
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
