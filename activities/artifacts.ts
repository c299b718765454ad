import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { ObjectStore } from '../adapters/storage/s3';
import type { ArtifactManifest, ArtifactRef, FileEntry } from '../contracts/artifacts';
import type { GeneratedFile } from './agents/skeleton';

export const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export const intentPrefix = (intentId: string) => `intents/${intentId}`;
const taskPrefix = (intentId: string, taskId: string) => `${intentPrefix(intentId)}/tasks/${taskId}`;

/** Generated paths are untrusted: relative, normalised, inside the project. */
export function assertSafePath(path: string): void {
  const normalised = posix.normalize(path);
  if (
    path.length === 0 ||
    path.length > 255 ||
    path.includes('\\') ||
    path.includes('\0') ||
    posix.isAbsolute(path) ||
    normalised !== path ||
    normalised.split('/').includes('..')
  ) {
    throw ApplicationFailure.nonRetryable(`unsafe output path ${JSON.stringify(path)}`, 'UnsafeOutputPath');
  }
}

/** Uploads a task's files and their manifest under deterministic keys; a retry rewrites the same objects. */
export async function storeTaskFiles(
  store: ObjectStore,
  intentId: string,
  taskId: string,
  files: GeneratedFile[],
): Promise<ArtifactRef> {
  const prefix = taskPrefix(intentId, taskId);
  const entries: ArtifactManifest['files'] = [];
  for (const file of files) {
    assertSafePath(file.path);
    const body = Buffer.from(file.content, 'utf8');
    const key = `${prefix}/files/${file.path}`;
    await store.put(key, body);
    entries.push({ path: file.path, key, sha256: sha256(body), size: body.length });
  }
  const manifestKey = `${prefix}/manifest.json`;
  const manifest: ArtifactManifest = { intentId, taskId, files: entries };
  await store.putJson(manifestKey, manifest);
  return { taskId, manifestKey, fileCount: entries.length, bytes: entries.reduce((sum, f) => sum + f.size, 0) };
}

export interface LoadedFile extends FileEntry {
  content: Buffer;
  taskId: string;
}

/** Reads the files behind artifact references, checking each against its manifest checksum. */
export async function loadFiles(store: ObjectStore, refs: ArtifactRef[]): Promise<LoadedFile[]> {
  const files = new Map<string, LoadedFile>();
  for (const ref of refs) {
    const manifest = await store.getJson<ArtifactManifest>(ref.manifestKey);
    for (const entry of manifest.files) {
      const content = await store.getBuffer(entry.key);
      if (sha256(content) !== entry.sha256) {
        throw ApplicationFailure.nonRetryable(`artifact ${entry.key} does not match its checksum`, 'ArtifactCorrupt');
      }
      const clash = files.get(entry.path);
      if (clash) {
        throw ApplicationFailure.nonRetryable(
          `tasks ${clash.taskId} and ${ref.taskId} both produced ${entry.path}`,
          'ArtifactConflict',
        );
      }
      files.set(entry.path, { path: entry.path, sha256: entry.sha256, size: entry.size, content, taskId: ref.taskId });
    }
  }
  return [...files.values()].sort((a, b) => a.path.localeCompare(b.path));
}
