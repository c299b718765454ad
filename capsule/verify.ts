import {
  CAPSULE_FORMAT_V1,
  CAPSULE_FORMAT_V2,
  CAPSULE_PATHS,
  INTOTO_PAYLOAD_TYPE,
  MANIFEST_PAYLOAD_TYPE,
  type VerificationResult,
} from '../contracts/capsule';
import { ArchiveError, readArchive, type ArchiveLimits } from './archive-reader';
import { markVerified } from './extract';
import {
  checkApproval,
  checkFiles,
  checkReview,
  checkSignature,
  checkSubject,
  CheckList,
  issueOf,
  jsonOf,
  ManifestV1,
  ManifestV2,
  V2_DOCUMENTS,
  type Entries,
} from './verify-checks';

// Offline verification of a capsule (docs/capsule-format.md "Verifying"): the public keys and the archive
// are all it needs. The one module of capsule/ that the CLI and the API import, so it stays free of adapters.

export { extractVerified } from './extract';
export { trustedKeysFrom } from './trusted-keys';
export { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './archive-reader';

export interface VerifyOptions {
  /** keyId → SPKI PEM; signatures by any other key do not count. */
  trustedKeys: ReadonlyMap<string, string>;
  limits?: Partial<ArchiveLimits>;
  /** The capsule asked for, by its id or its intent's: a genuine capsule of anything else is not it. */
  requested?: string;
}

export interface Verification {
  result: VerificationResult;
  /** The archive's entries by path (null when it could not be read); extractVerified takes them only when it passed. */
  entries: Map<string, Buffer> | null;
}

const MANIFEST = CAPSULE_PATHS.manifest;
const SIGNED_MANIFEST: [string, string, string] = [MANIFEST, CAPSULE_PATHS.manifestSignature, MANIFEST_PAYLOAD_TYPE];
const SIGNED_PROVENANCE: [string, string, string] = [
  CAPSULE_PATHS.provenance,
  CAPSULE_PATHS.provenanceSignature,
  INTOTO_PAYLOAD_TYPE,
];

/** Every check of the spec; never throws for a bad archive, it reports it. */
export async function verifyCapsule(
  archive: Buffer | NodeJS.ReadableStream,
  options: VerifyOptions,
): Promise<Verification> {
  const list = new CheckList();
  let entries: Map<string, Buffer>;
  try {
    entries = new Map((await readArchive(archive, options.limits)).map((e) => [e.path, e.content]));
  } catch (error) {
    const detail =
      error instanceof ArchiveError ? error.message : `the archive could not be read: ${(error as Error).message}`;
    list.fail('archive', detail);
    return { result: resultOf(list, 'failed', null, 0), entries: null };
  }
  list.pass('archive', `${entries.size} entries, all regular files with safe paths, within the size limits`);

  const manifest = manifestOf(entries, list);
  if (manifest?.format === CAPSULE_FORMAT_V2) verifyV2(entries, manifest, list, options.trustedKeys);
  if (manifest?.format === CAPSULE_FORMAT_V1) checkFiles(entries, manifest, list, [MANIFEST]);
  // A manifest that could not be read may still be one a signature covers: say whether it was tampered with.
  if (!manifest && entries.has(CAPSULE_PATHS.manifestSignature))
    checkSignature(entries, list, 'manifest-signature', SIGNED_MANIFEST, options.trustedKeys);

  if (manifest && options.requested !== undefined) checkRequested(manifest, options.requested, list);

  const status = !list.ok || !manifest ? 'failed' : manifest.format === CAPSULE_FORMAT_V2 ? 'verified' : 'unsigned';
  if (status !== 'failed') markVerified(entries);
  return { result: resultOf(list, status, manifest, manifest?.files.length ?? 0), entries };
}

function verifyV2(entries: Entries, manifest: ManifestV2, list: CheckList, trusted: ReadonlyMap<string, string>): void {
  checkSignature(entries, list, 'manifest-signature', SIGNED_MANIFEST, trusted, manifest.signing.keyId);
  checkFiles(entries, manifest, list, [MANIFEST, CAPSULE_PATHS.manifestSignature, CAPSULE_PATHS.provenanceSignature]);
  checkSignature(entries, list, 'provenance-signature', SIGNED_PROVENANCE, trusted, manifest.signing.keyId);
  checkSubject(entries, manifest, list);
  checkReview(entries, manifest, list);
  // Against the signed manifest's review.review: when the files do not match it, review-digest says so.
  checkApproval(entries, manifest, manifest.review.review, list);
}

/** A served capsule must be the one asked for: signed and intact is not enough if it is another intent's. */
function checkRequested(manifest: ManifestV1 | ManifestV2, requested: string, list: CheckList): void {
  const id = requested.toLowerCase();
  if (manifest.id.toLowerCase() === id || manifest.intentId.toLowerCase() === id) {
    list.pass('requested', `${MANIFEST}: capsule ${manifest.id} of intent ${manifest.intentId}, as asked (${id})`);
  } else {
    list.fail(
      'requested',
      `${MANIFEST}: capsule ${manifest.id} of intent ${manifest.intentId} is not ${id}, which was asked for`,
    );
  }
}

/** capsule.json, parsed for its format; a failed `manifest` check and undefined when it cannot be. */
function manifestOf(entries: Entries, list: CheckList): ManifestV1 | ManifestV2 | undefined {
  const json = jsonOf(entries, MANIFEST, 'manifest', list);
  if (json === undefined) return undefined;
  const format = (json as { format?: unknown } | null)?.format;
  const schema = format === CAPSULE_FORMAT_V2 ? ManifestV2 : format === CAPSULE_FORMAT_V1 ? ManifestV1 : undefined;
  if (!schema) {
    const known = `${CAPSULE_FORMAT_V2} or ${CAPSULE_FORMAT_V1}`;
    return void list.fail('manifest', `${MANIFEST}: format ${JSON.stringify(format)} is not ${known}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return void list.fail('manifest', `${MANIFEST}: ${issueOf(parsed.error)}`);
  const manifest = parsed.data;
  const paths = manifest.files.map((f) => f.path);
  const twice = paths.find((path, index) => paths.indexOf(path) !== index);
  if (twice !== undefined) return void list.fail('manifest', `${MANIFEST} lists ${twice} twice`);
  const unlisted = manifest.format === CAPSULE_FORMAT_V2 ? V2_DOCUMENTS.filter((doc) => !paths.includes(doc)) : [];
  if (unlisted.length > 0) {
    list.fail('manifest', `${MANIFEST} does not list ${unlisted.join(', ')}, which every v2 capsule carries`);
  } else {
    const { format: name, id, intentId, version } = manifest;
    list.pass('manifest', `${MANIFEST}: ${name}, capsule ${id}, intent ${intentId}, version ${version}`);
  }
  return manifest;
}

function resultOf(
  list: CheckList,
  status: VerificationResult['status'],
  manifest: ManifestV1 | ManifestV2 | undefined | null,
  fileCount: number,
): VerificationResult {
  return {
    status,
    format: manifest?.format ?? null,
    capsuleId: manifest?.id ?? null,
    intentId: manifest?.intentId ?? null,
    version: manifest?.version ?? null,
    signedBy: [...list.signedBy],
    fileCount,
    checks: list.checks,
    errors: list.checks.filter((c) => !c.ok).map((c) => c.detail),
  };
}
