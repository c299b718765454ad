import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { ArtifactManifest, ArtifactRef, FileEntry } from '../../contracts/artifacts';
import type { ObjectStore } from './s3';

// The artifact store over ObjectStore: where an intent's plan, task files, reports and capsules live,
// and the checks that keep untrusted generated paths inside the project.

export const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export const intentPrefix = (intentId: string) => `intents/${intentId}`;
const taskPrefix = (intentId: string, taskId: string) => `${intentPrefix(intentId)}/tasks/${taskId}`;

/** Where the normalised plan is kept for agents that need the whole picture. */
export const planKey = (intentId: string) => `${intentPrefix(intentId)}/plan.json`;

/** Where each validation report lives, next to the intent's other artifacts. */
export const reportKeys = (intentId: string) => {
  const base = `${intentPrefix(intentId)}/reports`;
  return {
    typecheck: `${base}/validation.json`,
    static: `${base}/static-review.json`,
    compliance: `${base}/compliance.json`,
    dynamic: `${base}/dynamic.json`,
    validation: `${base}/validation-report.json`,
    sarif: `${base}/validation.sarif`,
  };
};

/** Where a capsule version is uploaded: fixed by intent and version, so a retry finds it. */
export const capsuleKey = (intentId: string, version: number) => `capsules/${intentId}/${intentId}-v${version}.tar.gz`;

/**
 * A stored artifact no retry can fix: an unsafe path, a file that does not match its checksum, two
 * tasks writing the same file. `type` is the failure type the activity fails with, for good.
 */
export class ArtifactError extends Error {
  readonly nonRetryable = true;
  constructor(
    message: string,
    readonly type: 'UnsafeOutputPath' | 'ArtifactCorrupt' | 'ArtifactConflict',
  ) {
    super(message);
    this.name = type;
  }
}

const MAX_PATH = 200;
const MAX_DEPTH = 10;
const RESERVED_SEGMENTS = new Set(['.git', 'node_modules', '.ssh']);

/** Why a generated path is unsafe, or undefined when it is a plain relative path inside the project. */
export function unsafePathReason(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.length > MAX_PATH) return `is longer than ${MAX_PATH} characters`;
  if ([...path].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f))
    return 'contains control characters';
  if (path.includes('\\')) return 'contains a backslash';
  if (posix.isAbsolute(path)) return 'is absolute';
  if (/^[A-Za-z]:/.test(path) || path.includes(':')) return 'contains a drive letter or colon';
  if (path.startsWith('~')) return 'starts with ~';
  if (path.split('/').includes('..')) return 'climbs out of the project (..)';
  if (posix.normalize(path) !== path || path.endsWith('/') || path === '.')
    return 'is not a normalised relative file path';
  const segments = path.split('/');
  if (segments.length > MAX_DEPTH) return `is nested deeper than ${MAX_DEPTH} levels`;
  const reserved = segments.find((segment) => RESERVED_SEGMENTS.has(segment));
  if (reserved) return `writes into ${reserved}/`;
  if (segments.some((segment) => segment.length > 100)) return 'has a segment longer than 100 characters';
  return undefined;
}

/** Generated paths are untrusted: relative, normalised, inside the project. */
export function assertSafePath(path: string): void {
  const reason = unsafePathReason(path);
  if (reason) throw new ArtifactError(`unsafe output path ${JSON.stringify(path)}: ${reason}`, 'UnsafeOutputPath');
}

/** Uploads a task's files and their manifest under deterministic keys; a retry rewrites the same objects. */
export async function storeTaskFiles(
  store: ObjectStore,
  intentId: string,
  taskId: string,
  files: { path: string; content: string }[],
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
        throw new ArtifactError(`artifact ${entry.key} does not match its checksum`, 'ArtifactCorrupt');
      }
      const clash = files.get(entry.path);
      if (clash) {
        throw new ArtifactError(
          `tasks ${clash.taskId} and ${ref.taskId} both produced ${entry.path}`,
          'ArtifactConflict',
        );
      }
      files.set(entry.path, { path: entry.path, sha256: entry.sha256, size: entry.size, content, taskId: ref.taskId });
    }
  }
  return [...files.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * What an approver reviews, as one digest: the files that will be packaged (every path and its sha256,
 * in path order) and the validation report as stored. Packaging checks the files against it again.
 */
export function filesDigest(files: { path: string; content: Buffer }[]): string {
  const lines = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return createHash('sha256')
    .update(lines.map((f) => `${f.path}\u0000${sha256(f.content)}\n`).join(''))
    .digest('hex');
}

export function reviewDigest(files: string, report: string): string {
  return createHash('sha256').update(`qlp-review-v1\nfiles ${files}\nreport ${report}\n`).digest('hex');
}
