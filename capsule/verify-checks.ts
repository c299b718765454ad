import { z } from 'zod';
import {
  ApprovalRecord,
  CAPSULE_FORMAT_V1,
  CAPSULE_FORMAT_V2,
  CAPSULE_PATHS,
  DsseEnvelope,
  KeyId,
  ReviewDigest,
  type VerificationCheck,
} from '../contracts/capsule';
import { filesDigestOf, reviewDigest, sha256 } from '../contracts/digest';
import { verifyEnvelope } from './dsse';
import { SLSA_PROVENANCE_V1, STATEMENT_TYPE } from './provenance';

// The checks of docs/capsule-format.md "Verifying", one function each. A failure's detail starts with
// the file at fault, so `errors` reads as a list of what to look at.

export type Entries = ReadonlyMap<string, Buffer>;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (sha256)');
const ManifestFile = z.object({ path: z.string(), sha256: hex64, size: z.number().int().min(0) });

/** What verification reads of capsule.json; the rest of the manifest is for people. */
export const ManifestV1 = z.object({
  format: z.literal(CAPSULE_FORMAT_V1),
  id: z.string(),
  intentId: z.string(),
  version: z.number().int(),
  files: z.array(ManifestFile),
});
export const ManifestV2 = ManifestV1.extend({
  format: z.literal(CAPSULE_FORMAT_V2),
  review: ReviewDigest,
  signing: z.object({ keyId: KeyId }),
});
export type ManifestV1 = z.infer<typeof ManifestV1>;
export type ManifestV2 = z.infer<typeof ManifestV2>;

const Statement = z.object({
  _type: z.literal(STATEMENT_TYPE),
  predicateType: z.literal(SLSA_PROVENANCE_V1),
  subject: z.array(z.object({ name: z.string(), digest: z.object({ sha256: hex64 }) })),
});

/** Every v2 document the manifest must list (it lists the project and reports besides). */
export const V2_DOCUMENTS = [
  CAPSULE_PATHS.sbom,
  CAPSULE_PATHS.provenance,
  CAPSULE_PATHS.approval,
  CAPSULE_PATHS.complianceMarkdown,
  CAPSULE_PATHS.complianceHtml,
  CAPSULE_PATHS.validationReport,
];

export class CheckList {
  readonly checks: VerificationCheck[] = [];
  readonly signedBy = new Set<string>();

  pass(check: string, detail: string): void {
    this.checks.push({ check, ok: true, detail });
  }

  fail(check: string, detail: string): void {
    this.checks.push({ check, ok: false, detail });
  }

  get ok(): boolean {
    return this.checks.every((c) => c.ok);
  }
}

/** The JSON in `path`, or a failed `check` saying why there is none. */
export function jsonOf(entries: Entries, path: string, check: string, list: CheckList): unknown {
  const bytes = entries.get(path);
  if (!bytes) return list.fail(check, `${path} is missing from the archive`);
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    return list.fail(check, `${path}: not valid JSON (${(error as Error).message})`);
  }
}

export function issueOf(error: z.ZodError): string {
  const [issue] = error.issues;
  return issue ? `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}` : 'invalid';
}

/** The DSSE envelope at `envelopePath` is by a trusted key and over `signedPath`'s exact bytes. */
export function checkSignature(
  entries: Entries,
  list: CheckList,
  check: string,
  [signedPath, envelopePath, payloadType]: [string, string, string],
  trusted: ReadonlyMap<string, string>,
  expectedKeyId?: string,
): void {
  const json = jsonOf(entries, envelopePath, check, list);
  if (json === undefined) return;
  const envelope = DsseEnvelope.safeParse(json);
  if (!envelope.success) return list.fail(check, `${envelopePath}: not a DSSE envelope (${issueOf(envelope.error)})`);
  const problems: string[] = [];
  const signed = entries.get(signedPath);
  const payload = Buffer.from(envelope.data.payload, 'base64');
  if (!signed) problems.push(`${signedPath} is missing from the archive`);
  else if (!payload.equals(signed))
    problems.push(`${signedPath}: its bytes are not the payload signed in ${envelopePath}`);
  let verdict: ReturnType<typeof verifyEnvelope>;
  try {
    verdict = verifyEnvelope(envelope.data, payloadType, trusted);
  } catch (error) {
    verdict = { ok: false, reason: `a trusted key is unusable (${(error as Error).message})` };
  }
  if (!verdict.ok) {
    const none = trusted.size === 0 ? ' (no trusted keys were given)' : '';
    problems.push(`${envelopePath}: ${verdict.reason}${none}`);
  } else if (expectedKeyId && !verdict.keyIds.includes(expectedKeyId)) {
    problems.push(`${signedPath} names signing key ${expectedKeyId}, but ${verdict.keyIds.join(', ')} signed it`);
  }
  if (problems.length > 0) return list.fail(check, problems.join('; '));
  for (const keyId of verdict.ok ? verdict.keyIds : []) list.signedBy.add(keyId);
  const by = verdict.ok ? verdict.keyIds.join(', ') : '';
  list.pass(check, `${envelopePath}: signed by ${by} over ${signedPath}'s exact bytes`);
}

/** Every listed file is there with its sha256 and size; nothing else is, but `unlisted` (the manifest, the envelopes). */
export function checkFiles(
  entries: Entries,
  manifest: ManifestV1 | ManifestV2,
  list: CheckList,
  unlisted: string[],
): void {
  const failures = list.checks.length;
  for (const file of manifest.files) {
    const content = entries.get(file.path);
    if (!content) list.fail('files', `${file.path}: missing from the archive`);
    else if (sha256(content) !== file.sha256) list.fail('files', `${file.path}: sha256 does not match the manifest`);
    else if (content.length !== file.size)
      list.fail('files', `${file.path}: size ${content.length} does not match the manifest's ${file.size}`);
  }
  if (list.checks.length === failures)
    list.pass('files', `${manifest.files.length} files match the manifest's sha256 and size`);
  const listed = new Set([...manifest.files.map((f) => f.path), ...unlisted]);
  const extra = [...entries.keys()].filter((path) => !listed.has(path));
  for (const path of extra) list.fail('unlisted-entries', `${path}: in the archive but not listed in capsule.json`);
  if (extra.length === 0) list.pass('unlisted-entries', 'the archive holds nothing the manifest does not list');
}

/** The statement's subject: the manifest's files but itself, same names, same digests. */
export function checkSubject(entries: Entries, manifest: ManifestV2, list: CheckList): void {
  const check = 'provenance-subject';
  const path = CAPSULE_PATHS.provenance;
  const json = jsonOf(entries, path, check, list);
  if (json === undefined) return;
  const statement = Statement.safeParse(json);
  if (!statement.success)
    return list.fail(check, `${path}: not an in-toto SLSA statement (${issueOf(statement.error)})`);
  const expected = new Map(manifest.files.filter((f) => f.path !== path).map((f) => [f.path, f.sha256]));
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const { name, digest } of statement.data.subject) {
    if (seen.has(name)) problems.push(`${path}: subject lists ${name} twice`);
    else if (!expected.has(name)) problems.push(`${path}: subject lists ${name}, which capsule.json does not`);
    else if (expected.get(name) !== digest.sha256)
      problems.push(`${path}: subject's sha256 of ${name} differs from capsule.json's`);
    seen.add(name);
  }
  for (const name of expected.keys()) if (!seen.has(name)) problems.push(`${path}: subject lacks ${name}`);
  for (const problem of problems) list.fail(check, problem);
  if (problems.length === 0) list.pass(check, `${path}: subject matches the ${expected.size} files of capsule.json`);
}

/** `review` recomputed from files/ and the validation report matches the manifest's. */
export function checkReview(entries: Entries, manifest: ManifestV2, list: CheckList): void {
  const check = 'review-digest';
  const reportPath = CAPSULE_PATHS.validationReport;
  const report = entries.get(reportPath);
  if (!report) return list.fail(check, `${reportPath} is missing, so review.report cannot be recomputed`);
  const projectFiles = [...entries]
    .filter(([path]) => path.startsWith('files/'))
    .map(([path, content]) => ({ path: path.slice('files/'.length), sha256: sha256(content) }));
  const files = filesDigestOf(projectFiles);
  const review = reviewDigest(files, sha256(report));
  const problems: string[] = [];
  if (files !== manifest.review.files)
    problems.push('files/: the digest of the files/ entries is not capsule.json review.files');
  if (sha256(report) !== manifest.review.report)
    problems.push(`${reportPath}: sha256 is not capsule.json review.report`);
  if (problems.length === 0 && review !== manifest.review.review)
    problems.push('capsule.json: review.review is not the digest of review.files and review.report');
  for (const problem of problems) list.fail(check, problem);
  if (problems.length === 0) list.pass(check, `review ${review} recomputed from files/ and ${reportPath}`);
}

/** approval.json approves this intent, bound (with each approver's digest) to the review digest. */
export function checkApproval(entries: Entries, manifest: ManifestV2, review: string, list: CheckList): void {
  const check = 'approval-digest';
  const path = CAPSULE_PATHS.approval;
  const json = jsonOf(entries, path, check, list);
  if (json === undefined) return;
  const parsed = ApprovalRecord.safeParse(json);
  if (!parsed.success) return list.fail(check, `${path}: not an approval record (${issueOf(parsed.error)})`);
  const record = parsed.data;
  const problems: string[] = [];
  if (record.decision !== 'approve') problems.push(`${path}: the decision is ${record.decision}, not approve`);
  if (record.intentId !== manifest.intentId)
    problems.push(`${path}: intentId ${record.intentId} is not the capsule's intent ${manifest.intentId}`);
  if (record.digest === null) problems.push(`${path}: the decision is bound to no digest`);
  else if (record.digest !== review) problems.push(`${path}: digest ${record.digest} is not review.review ${review}`);
  for (const approver of record.approvers) {
    if (approver.digest !== null && approver.digest !== review)
      problems.push(
        `${path}: approver ${approver.subject} approved digest ${approver.digest}, not review.review ${review}`,
      );
  }
  for (const problem of problems) list.fail(check, problem);
  if (problems.length === 0) {
    const bound = record.approvers.filter((a) => a.digest !== null).length;
    const approvers = `${bound} approver${bound === 1 ? '' : 's'}`;
    list.pass(check, `${path}: the decision and ${approvers} are bound to review.review ${review}`);
  }
}
