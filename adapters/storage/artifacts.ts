import { posix } from 'node:path';
import type { ArtifactManifest, ArtifactRef, FileEntry } from '../../contracts/artifacts';
import type { ObjectStore } from './s3';

// The artifact store over ObjectStore: where an intent's plan, task files, reports and capsules live,
// and the checks that keep untrusted generated paths inside the project.

export { filesDigest, reviewDigest, sha256 } from '../../contracts/digest';
import { sha256 } from '../../contracts/digest';

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

/** Where a gate's review bundle (QuantumDrop) is stored, JSON and HTML: fixed by gate and version, so a retry rewrites the same objects. */
export const dropKeys = (intentId: string, gate: string, version: number) => {
  const base = `${intentPrefix(intentId)}/drops/${gate}-v${version}`;
  return { json: `${base}.json`, html: `${base}.html` };
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
// Device names Windows reserves whatever the extension (`con.ts`, `NUL.txt.bak`): such a file cannot be unpacked there.
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\.|$)/i;
// Bidirectional and invisible formatting characters: a name that reads differently from what it is.
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;
// Characters no Windows file name may hold (`:` and `\\` are refused above with their own reasons).
const NOT_PORTABLE = /[<>"|?*]/;

const isControl = (code: number) => code < 0x20 || (code >= 0x7f && code <= 0x9f);

/**
 * Why a generated path is unsafe, or undefined when it is a plain relative path inside the project. The one
 * place for path rules: the output policy refuses an agent's file with this reason (so it can retry), task
 * storage refuses it for good, and the merge of task outputs adds the rules between paths (pathConflict).
 */
export function unsafePathReason(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.length > MAX_PATH) return `is longer than ${MAX_PATH} characters`;
  if ([...path].some((char) => isControl(char.codePointAt(0)!))) return 'contains control characters';
  if (INVISIBLE.test(path)) return 'contains bidirectional or invisible formatting characters';
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
  const device = segments.find((segment) => WINDOWS_RESERVED.test(segment));
  if (device) return `uses ${JSON.stringify(device)}, a device name Windows reserves`;
  if (segments.some((segment) => /[. ]$/.test(segment))) return 'has a name ending in a dot or a space';
  if (segments.some((segment) => /^ /.test(segment))) return 'has a name starting with a space';
  if (NOT_PORTABLE.test(path)) return 'contains a character file systems refuse (< > " | ? *)';
  return undefined;
}

/** How a path is compared for clashes: as macOS and Windows do (case, Unicode form, trailing dots and spaces). */
export const pathFoldKey = (path: string) =>
  path
    .normalize('NFC')
    .toLowerCase()
    .split('/')
    .map((segment) => segment.replace(/[. ]+$/, '') || segment)
    .join('/');

/**
 * Why two different paths cannot both be unpacked, or undefined: one is the other's directory
 * (`docs/api.md` and `docs/api.md/index.md`), or they differ only in case or Unicode normalisation.
 */
export function pathConflictReason(a: string, b: string): string | undefined {
  if (a === b) return 'the same path';
  const [fa, fb] = [pathFoldKey(a), pathFoldKey(b)];
  if (fa === fb)
    return a.normalize('NFC') === b.normalize('NFC')
      ? 'paths that differ only in Unicode normalisation (NFC/NFD twins)'
      : a.toLowerCase() === b.toLowerCase() || a.normalize('NFC').toLowerCase() === b.normalize('NFC').toLowerCase()
        ? 'paths that differ only in letter case (one file on macOS and Windows)'
        : 'paths that differ only in trailing dots or spaces (one file on Windows)';
  if (fb.startsWith(`${fa}/`))
    return `${JSON.stringify(a)} is a file, but ${JSON.stringify(b)} needs it as a directory`;
  if (fa.startsWith(`${fb}/`))
    return `${JSON.stringify(b)} is a file, but ${JSON.stringify(a)} needs it as a directory`;
  return undefined;
}

/** Two outputs that cannot both be unpacked where they claim to go, and the task behind each. */
export interface PathConflict {
  paths: [string, string];
  tasks: [string, string];
  reason: string;
  /** The later path, left out of the merged files (it cannot exist beside the first), when one was. */
  dropped?: string;
}

/**
 * Every clash between files, in order (the first writer of a place keeps it): exact duplicates and
 * file-versus-directory clashes drop the later file (no archive can hold both); case and normalisation
 * twins are kept and reported. Linear in files × depth.
 */
export function findPathConflicts<T extends { path: string; taskId: string }>(
  files: T[],
): { kept: T[]; conflicts: PathConflict[] } {
  const byKey = new Map<string, T>();
  const directories = new Map<string, T>(); // folded directory → the first file below it
  const kept: T[] = [];
  const conflicts: PathConflict[] = [];
  const clash = (first: T, later: T, drop: boolean) =>
    conflicts.push({
      paths: [first.path, later.path],
      tasks: [first.taskId, later.taskId],
      reason: pathConflictReason(first.path, later.path) ?? 'the same path',
      ...(drop && { dropped: later.path }),
    });
  for (const file of files) {
    const key = pathFoldKey(file.path);
    const twin = byKey.get(key);
    if (twin) {
      clash(twin, file, twin.path === file.path);
      if (twin.path === file.path) continue;
    }
    const parts = key.split('/');
    const fileAbove = parts
      .slice(0, -1)
      .map((_, index) => byKey.get(parts.slice(0, index + 1).join('/')))
      .find((found) => found !== undefined);
    const below = directories.get(key);
    if (fileAbove || below) {
      clash((fileAbove ?? below)!, file, true);
      continue;
    }
    if (!twin) byKey.set(key, file);
    for (let index = 1; index < parts.length; index++) {
      const directory = parts.slice(0, index).join('/');
      if (!directories.has(directory)) directories.set(directory, file);
    }
    kept.push(file);
  }
  return { kept, conflicts };
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
  revision?: string,
): Promise<ArtifactRef> {
  // A revision is stored beside the first output (`tasks/<id>@v2`), so no version overwrites another.
  const prefix = taskPrefix(intentId, revision ? `${taskId}@${revision}` : taskId);
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

/**
 * The merge of task outputs: every task's files, checked against their manifest checksums, and the clashes
 * between them (named by task and path). The files are exactly what validation reads and packaging ships.
 */
export async function mergeTaskOutputs(
  store: ObjectStore,
  refs: ArtifactRef[],
): Promise<{ files: LoadedFile[]; conflicts: PathConflict[] }> {
  const loaded: LoadedFile[] = [];
  for (const ref of refs) {
    const manifest = await store.getJson<ArtifactManifest>(ref.manifestKey);
    for (const entry of manifest.files) {
      const content = await store.getBuffer(entry.key);
      if (sha256(content) !== entry.sha256) {
        throw new ArtifactError(`artifact ${entry.key} does not match its checksum`, 'ArtifactCorrupt');
      }
      loaded.push({ path: entry.path, sha256: entry.sha256, size: entry.size, content, taskId: ref.taskId });
    }
  }
  const { kept, conflicts } = findPathConflicts(loaded);
  return { files: kept.sort((a, b) => a.path.localeCompare(b.path)), conflicts };
}

/**
 * Reads the files behind artifact references: the merged set (a file that clashes with an earlier task's is
 * left out, and validation reports the clash naming both tasks, so packaging never meets it after approval).
 */
export async function loadFiles(store: ObjectStore, refs: ArtifactRef[]): Promise<LoadedFile[]> {
  return (await mergeTaskOutputs(store, refs)).files;
}
