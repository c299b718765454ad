import { sha256 } from '../adapters/storage/artifacts';
import type { ValidationSummary } from '../contracts/validation';
import { deterministicTarGz } from './archive';
import { capsuleManifest, type CapsuleInput } from './manifest';

/** The stored reports a capsule carries: where each goes in the archive and the key it is read from. */
export function capsuleReports(validation: ValidationSummary): { path: string; key: string }[] {
  const { score, dynamic } = validation;
  return [
    { path: 'reports/validation.json', key: validation.reportKey },
    ...(score
      ? [
          { path: 'reports/validation-report.json', key: score.reportKey },
          { path: 'reports/validation.sarif', key: score.sarifKey },
        ]
      : []),
    // Layer 2's run: steps, test results and output excerpts from inside the sandbox (no platform secrets there).
    ...(dynamic?.status === 'assessed' ? [{ path: 'reports/dynamic.json', key: dynamic.reportKey }] : []),
  ];
}

export interface BuiltCapsule {
  archive: Buffer;
  sha256: string;
  /** Files in the archive besides capsule.json. */
  fileCount: number;
}

/**
 * The capsule archive: the project under files/, the reports (see capsuleReports) under reports/, and
 * capsule.json listing every other entry with its sha256. docs/capsule-format.md describes the layout.
 */
export async function buildCapsule(
  input: CapsuleInput,
  projectFiles: { path: string; content: Buffer }[],
  reports: { path: string; content: Buffer }[],
): Promise<BuiltCapsule> {
  const contents = new Map<string, Buffer>();
  for (const file of projectFiles) contents.set(`files/${file.path}`, file.content);
  for (const report of reports) contents.set(report.path, report.content);

  const files = [...contents].map(([path, content]) => ({ path, sha256: sha256(content), size: content.length }));
  const manifest = capsuleManifest(input, files, new Date());
  contents.set('capsule.json', Buffer.from(JSON.stringify(manifest, null, 2)));

  const archive = await deterministicTarGz(contents, ['capsule.json', ...files.map((f) => f.path)], input.intentId);
  return { archive, sha256: sha256(archive), fileCount: files.length };
}
