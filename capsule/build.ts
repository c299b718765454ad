import {
  CAPSULE_PATHS,
  INTOTO_PAYLOAD_TYPE,
  MANIFEST_PAYLOAD_TYPE,
  type CapsuleMetadata,
  type CapsuleSigner,
  type ReviewDigest,
} from '../contracts/capsule';
import { filesDigestOf, reviewDigest, sha256 } from '../contracts/digest';
import { ValidationReport, type ValidationSummary } from '../contracts/validation';
import { approvalRecord } from './approval-record';
import { deterministicTarGz } from './archive';
import { renderComplianceReport } from './compliance-report';
import { signEnvelope } from './dsse';
import { capsuleManifest, type CapsuleInput } from './manifest';
import { capsuleMetadata } from './metadata';
import { provenanceStatement } from './provenance';
import { buildSbom, sbomDependencies } from './sbom';

/** The stored reports a capsule carries: where each goes in the archive and the key it is read from. */
export function capsuleReports(validation: ValidationSummary): { path: string; key: string }[] {
  const { score, dynamic } = validation;
  return [
    { path: 'reports/validation.json', key: validation.reportKey },
    ...(score
      ? [
          { path: CAPSULE_PATHS.validationReport, key: score.reportKey },
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
  /** Entries the manifest lists (everything but capsule.json and the signature envelopes). */
  fileCount: number;
  keyId: string;
  createdAt: string;
  metadata: CapsuleMetadata;
  verdict: string | undefined;
  /** Each framework's status, e.g. {"HIPAA": "pass"}. */
  frameworks: Record<string, string>;
}

export interface BuildContext {
  signer: CapsuleSigner;
  platform: { name: string; version: string };
}

type Content = { path: string; content: Buffer };
const jsonBytes = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);

/**
 * The capsule archive (docs/capsule-format.md): the project under files/, the reports under reports/, the
 * SBOM, approval record, compliance report and provenance statement, and capsule.json listing every entry
 * with its sha256; the manifest and the provenance are signed (DSSE). Deterministic: same input, same bytes.
 */
export async function buildCapsule(
  input: CapsuleInput,
  projectFiles: Content[],
  reports: Content[],
  { signer, platform }: BuildContext,
): Promise<BuiltCapsule> {
  const createdAt = input.createdAt ?? input.approval.decidedAt ?? new Date(0).toISOString();
  // Each file's sha256 once: the review digest, the manifest and the provenance all list it.
  const hashes = new Map<Buffer, string>();
  const hashOf = (content: Buffer) => hashes.get(content) ?? hashes.set(content, sha256(content)).get(content)!;
  const reportBytes = reports.find((r) => r.path === CAPSULE_PATHS.validationReport)?.content;
  const report = reportBytes ? parseReport(reportBytes) : undefined;
  const review = reportBytes ? reviewOf(projectFiles, reportBytes, hashOf) : undefined;
  const metadata = capsuleMetadata({
    name: input.plan.projectName,
    description: firstLine(input.intentText),
    capsuleVersion: input.version,
    tags: input.tags ?? [],
    files: projectFiles,
    dependencies: sbomDependencies(projectFiles),
    report,
  });

  const contents = new Map<string, Buffer>();
  for (const file of projectFiles) contents.set(`files/${file.path}`, file.content);
  for (const r of reports) contents.set(r.path, r.content);
  const sbom = buildSbom({
    capsuleId: input.capsuleId,
    name: metadata.name,
    version: metadata.version,
    description: metadata.description,
    createdAt,
    platform,
    files: projectFiles,
  });
  contents.set(CAPSULE_PATHS.sbom, Buffer.from(sbom));
  const approval = approvalRecord(input.intentId, input.approval, input.approvalPolicy, input.submittedBy, {
    version: input.version,
    history: input.history,
  });
  contents.set(CAPSULE_PATHS.approval, jsonBytes(approval));
  if (report) {
    const rendered = renderComplianceReport(report, {
      intentId: input.intentId,
      capsuleId: input.capsuleId,
      version: input.version,
      createdAt,
      intentText: input.intentText,
      projectName: metadata.name,
    });
    contents.set(CAPSULE_PATHS.complianceMarkdown, Buffer.from(rendered.markdown));
    contents.set(CAPSULE_PATHS.complianceHtml, Buffer.from(rendered.html));
  }

  const entries = () =>
    [...contents].map(([path, content]) => ({ path, sha256: sha256(content), size: content.length }));
  const statement = provenanceStatement(
    {
      platform,
      intentText: input.intentText,
      tenant: input.tenant ?? 'default',
      tags: input.tags ?? [],
      plan: input.plan,
      generators: input.generators ?? [],
      report,
      workflow: input.workflow,
      startedOn: input.startedAt ?? createdAt,
      finishedOn: createdAt,
    },
    entries(),
  );
  const provenance = jsonBytes(statement);
  contents.set(CAPSULE_PATHS.provenance, provenance);

  const files = entries();
  const manifest = jsonBytes(capsuleManifest(input, files, { createdAt, metadata, review, keyId: signer.keyId }));
  const signatures: [string, Buffer][] = [
    [CAPSULE_PATHS.manifestSignature, jsonBytes(await signEnvelope(signer, MANIFEST_PAYLOAD_TYPE, manifest))],
    [CAPSULE_PATHS.provenanceSignature, jsonBytes(await signEnvelope(signer, INTOTO_PAYLOAD_TYPE, provenance))],
  ];
  contents.set(CAPSULE_PATHS.manifest, manifest);
  for (const [path, envelope] of signatures) contents.set(path, envelope);

  const order = [CAPSULE_PATHS.manifest, ...signatures.map(([path]) => path), ...files.map((f) => f.path)];
  const archive = await deterministicTarGz(contents, order);
  return {
    archive,
    sha256: sha256(archive),
    fileCount: files.length,
    keyId: signer.keyId,
    createdAt,
    metadata,
    verdict: report?.verdict.status,
    frameworks: Object.fromEntries((report?.frameworks ?? []).map((f) => [f.framework, f.status])),
  };
}

function reviewOf(projectFiles: Content[], reportBytes: Buffer, hashOf: (content: Buffer) => string): ReviewDigest {
  const files = filesDigestOf(projectFiles.map((file) => ({ path: file.path, sha256: hashOf(file.content) })));
  const report = hashOf(reportBytes);
  return { files, report, review: reviewDigest(files, report) };
}

/** The stored report, if it is one; an unreadable report leaves the compliance report and risk out. */
function parseReport(bytes: Buffer): ValidationReport | undefined {
  try {
    const parsed = ValidationReport.safeParse(JSON.parse(bytes.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
