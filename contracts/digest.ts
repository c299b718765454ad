import { createHash } from 'node:crypto';

// The digests approvers review and capsules record (docs/capsule-format.md "Digests"). Here, not in an
// adapter, because offline verification (capsule/verify.ts, used by the CLI) recomputes them too.

export function sha256(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * What an approver reviews, as one digest: the files that will be packaged, as sha256 over
 * `<path>\0<sha256>\n` lines sorted by path. Packaging checks the files against it again.
 */
export function filesDigest(files: { path: string; content: Buffer }[]): string {
  return filesDigestOf(files.map((f) => ({ path: f.path, sha256: sha256(f.content) })));
}

export function filesDigestOf(files: { path: string; sha256: string }[]): string {
  const lines = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return createHash('sha256')
    .update(lines.map((f) => `${f.path}\u0000${f.sha256}\n`).join(''))
    .digest('hex');
}

/** What approvers sign: the files' digest and the validation report's. */
export function reviewDigest(files: string, report: string): string {
  return createHash('sha256').update(`qlp-review-v1\nfiles ${files}\nreport ${report}\n`).digest('hex');
}
