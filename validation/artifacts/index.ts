import type { Finding, NotAssessedFile } from '../../contracts/validation';
import { sortFindings } from '../findings';
import { MAX_SCANNED_BYTES, type Project } from '../project';
import { reviewDockerfile } from './dockerfile';
import { reviewGyp } from './gyp';
import { reviewJson } from './json-config';
import { artifactKind, type ArtifactKind } from './kinds';
import { reviewNpmrc } from './npmrc';
import { reviewPackageJson } from './package-json';
import { notAssessed, type FileReview } from './rule';
import { reviewShell, shellDialect } from './shell';
import { findShellcheck, shellcheckVersion } from './shellcheck';
import { reviewYaml } from './yaml';

export { artifactKind, type ArtifactKind } from './kinds';

export interface ArtifactReviewOptions {
  /** The shellcheck executable; `null` when there is none; default: SHELLCHECK_PATH or PATH. */
  shellcheck?: string | null;
}

export interface ArtifactReview {
  findings: Finding[];
  /** Files nothing could judge: unknown types, unreadable files, shell scripts without shellcheck. */
  notAssessed: NotAssessedFile[];
  /** Files of each kind, for the check's note. */
  kinds: Partial<Record<ArtifactKind, number>>;
  version: string;
}

function reviewFile(
  path: string,
  content: string,
  kind: ArtifactKind,
  shellcheck: string | null,
): FileReview | undefined {
  switch (kind) {
    case 'package-json':
      return reviewPackageJson(path, content);
    case 'npmrc':
      return reviewNpmrc(path, content);
    case 'gyp':
      return reviewGyp(path, content);
    case 'dockerfile':
      return reviewDockerfile(path, content);
    case 'shell':
      return reviewShell(path, content, shellDialect(path, content)!, shellcheck);
    case 'yaml':
      return reviewYaml(path, content);
    case 'json':
      return reviewJson(path, content);
    case 'unknown':
      return { findings: [], notAssessed: [notAssessed(path, 'no check understands this file type')] };
    default:
      return undefined; // code, prose and plain data: judged elsewhere or nothing to judge
  }
}

/**
 * Judges every non-code artefact of a project (package.json, shell scripts, Dockerfiles, Kubernetes,
 * Compose and CI YAML) and lists the files no check understands, so none passes unread.
 */
export function reviewArtifacts(project: Project, options: ArtifactReviewOptions = {}): ArtifactReview {
  const shellcheck = options.shellcheck === undefined ? findShellcheck() : options.shellcheck;
  const findings: Finding[] = [];
  const unassessed: NotAssessedFile[] = [];
  const kinds: Partial<Record<ArtifactKind, number>> = {};
  // Files the project already lists as not assessed (binary, oversized) are listed once, there.
  const listed = new Set((project.unassessed ?? []).map((item) => item.path));
  for (const file of project.files) {
    const kind = artifactKind(file.path, file.content);
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    if (listed.has(file.path)) continue;
    if (
      kind !== 'unknown' &&
      Buffer.byteLength(file.content) > MAX_SCANNED_BYTES &&
      !['code', 'prose', 'data', 'json'].includes(kind)
    ) {
      unassessed.push(notAssessed(file.path, `larger than ${MAX_SCANNED_BYTES} bytes: not scanned`));
      continue;
    }
    try {
      const review = reviewFile(file.path, file.content, kind, shellcheck);
      findings.push(...(review?.findings ?? []));
      unassessed.push(...(review?.notAssessed ?? []));
    } catch (error) {
      // A rule that crashes has not judged the file: not assessed, never passed.
      unassessed.push(
        notAssessed(file.path, `the ${kind} review failed: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
  }
  const version =
    shellcheck && kinds.shell
      ? `qlp artefact rules + shellcheck ${shellcheckVersion(shellcheck)}`
      : 'qlp artefact rules';
  return { findings: sortFindings(findings), notAssessed: unassessed, kinds, version };
}

/** The artefact review as a static-review check; files it could not judge are appended to `into`. */
export function artifactCheck(
  project: Project,
  into: NotAssessedFile[],
  options: ArtifactReviewOptions = {},
): { findings: Finding[]; version: string; note?: string } {
  const review = reviewArtifacts(project, options);
  into.push(...review.notAssessed);
  const names = review.notAssessed.map((item) => item.path);
  const note = names.length
    ? `not assessed: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`
    : undefined;
  return { findings: review.findings, version: review.version, ...(note && { note }) };
}
