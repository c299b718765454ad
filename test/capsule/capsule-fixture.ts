import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import {
  CAPSULE_FORMAT_V1,
  CAPSULE_FORMAT_V2,
  CAPSULE_PATHS,
  INTOTO_PAYLOAD_TYPE,
  MANIFEST_PAYLOAD_TYPE,
  type ApprovalRecord,
  type CapsuleSigner,
} from '../../contracts/capsule';
import { filesDigestOf, reviewDigest, sha256 } from '../../contracts/digest';
import { keyIdOf, signEnvelope } from '../../capsule/dsse';

// Spec-conformant capsules (docs/capsule-format.md) assembled by hand, independently of capsule/build.ts,
// and raw tar streams for the archives no builder would make (links, `..`, duplicates).

/** Every document of the fixture carries this text once, inside a JSON string: flip a letter of it to tamper. */
export const MARK = 'tamper-me';

export function ephemeralSigner(): CapsuleSigner {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (message) => Promise.resolve(sign(null, message, privateKey)),
  };
}

export const trustedBy = (...signers: CapsuleSigner[]) => new Map(signers.map((s) => [s.keyId, s.publicKeyPem]));

export interface RawEntry {
  path: string;
  content?: Buffer;
  type?: 'File' | 'SymbolicLink' | 'Link' | 'Directory' | 'FIFO';
  linkpath?: string;
}

/** A .tar.gz of exactly these headers and bodies, paths as given: what a hostile archiver could write. */
export function rawTarGz(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const { path, content = Buffer.alloc(0), type = 'File', linkpath } of entries) {
    const header = new Header({
      path,
      type,
      size: type === 'File' ? content.length : 0,
      mode: 0o644,
      mtime: new Date(0),
      linkpath,
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (type === 'File' && content.length > 0) {
      blocks.push(content, Buffer.alloc((512 - (content.length % 512)) % 512));
    }
  }
  return gzipSync(Buffer.concat([...blocks, Buffer.alloc(1024)]));
}

export const packCapsule = (contents: Map<string, Buffer>) =>
  rawTarGz([...contents].map(([path, content]) => ({ path, content })));

/** `content` with the first letter of MARK's occurrence flipped to upper case: one byte differs. */
export function flipByte(content: Buffer): Buffer {
  const at = content.indexOf(MARK);
  if (at < 0) throw new Error('no mark to tamper with');
  const copy = Buffer.from(content);
  copy[at] = copy[at]! ^ 0x20;
  return copy;
}

export interface V2Options {
  signer?: CapsuleSigner;
  /** approval.json's digest, when it should not be the review's. */
  approvalDigest?: string;
  /** A manifest entry the provenance statement leaves out of its subject. */
  omitFromSubject?: string;
}

export interface BuiltFixture {
  /** Every entry in archive order, capsule.json first. */
  contents: Map<string, Buffer>;
  archive: Buffer;
  signer: CapsuleSigner;
  capsuleId: string;
  intentId: string;
}

const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);

/** A complete v2 capsule of a two-file project, signed by `signer` (a fresh key unless given). */
export async function buildV2Capsule(options: V2Options = {}): Promise<BuiltFixture> {
  const signer = options.signer ?? ephemeralSigner();
  const capsuleId = randomUUID();
  const intentId = randomUUID();
  const project = new Map<string, Buffer>([
    ['files/package.json', json({ name: 'todo-api', version: '1.0.0', description: MARK })],
    ['files/src/app.ts', Buffer.from(`// ${MARK}\nexport const answer = 42;\n`)],
  ]);
  const report = json({ verdict: 'pass', summary: MARK });
  const reviewFiles = filesDigestOf([...project].map(([path, c]) => ({ path: path.slice(6), sha256: sha256(c) })));
  const review = { files: reviewFiles, report: sha256(report), review: reviewDigest(reviewFiles, sha256(report)) };
  const decidedAt = '2026-01-02T03:04:05.000Z';
  const approval: ApprovalRecord = {
    schemaVersion: 1,
    intentId,
    decision: 'approve',
    via: 'api',
    decidedAt,
    digest: options.approvalDigest ?? review.review,
    authenticated: true,
    policy: { required: 1, selfApproval: false, submittedBy: 'alice' },
    approvers: [
      {
        subject: 'bob',
        name: 'Bob',
        roles: ['approver'],
        method: 'api-key',
        via: 'api',
        decidedAt,
        digest: review.review,
        reason: MARK,
      },
    ],
  };
  const documents = new Map<string, Buffer>([
    ...project,
    [CAPSULE_PATHS.sbom, json({ bomFormat: 'CycloneDX', specVersion: '1.6', metadata: { component: { name: MARK } } })],
    [CAPSULE_PATHS.approval, json(approval)],
    [CAPSULE_PATHS.complianceMarkdown, Buffer.from(`# Compliance\n\n${MARK}\n`)],
    [CAPSULE_PATHS.complianceHtml, Buffer.from(`<html><body>${MARK}</body></html>\n`)],
    ['reports/validation.json', json({ status: 'pass', errors: [] })],
    [CAPSULE_PATHS.validationReport, report],
    ['reports/validation.sarif', json({ version: '2.1.0', runs: [] })],
  ]);
  const provenance = json({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [...documents]
      .filter(([name]) => name !== options.omitFromSubject)
      .map(([name, c]) => ({ name, digest: { sha256: sha256(c) } })),
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { buildDefinition: { externalParameters: { tags: [MARK] } } },
  });
  documents.set(CAPSULE_PATHS.provenance, provenance);
  const manifest = json({
    format: CAPSULE_FORMAT_V2,
    id: capsuleId,
    intentId,
    version: 1,
    createdAt: decidedAt,
    intent: `a todo API (${MARK})`,
    review,
    signing: { keyId: signer.keyId },
    files: [...documents].map(([path, c]) => ({ path, sha256: sha256(c), size: c.length })),
  });
  const contents = new Map<string, Buffer>([
    [CAPSULE_PATHS.manifest, manifest],
    [CAPSULE_PATHS.manifestSignature, json(await signEnvelope(signer, MANIFEST_PAYLOAD_TYPE, manifest))],
    [CAPSULE_PATHS.provenanceSignature, json(await signEnvelope(signer, INTOTO_PAYLOAD_TYPE, provenance))],
    ...documents,
  ]);
  return { contents, archive: packCapsule(contents), signer, capsuleId, intentId };
}

/** A v1 capsule: capsule.json listing files/ and reports/, nothing signed. */
export function buildV1Capsule(): { contents: Map<string, Buffer>; archive: Buffer } {
  const files = new Map<string, Buffer>([
    ['files/src/app.ts', Buffer.from(`// ${MARK}\nexport const answer = 42;\n`)],
    ['reports/validation.json', json({ status: 'pass', errors: [] })],
  ]);
  const manifest = json({
    format: CAPSULE_FORMAT_V1,
    id: randomUUID(),
    intentId: randomUUID(),
    version: 1,
    files: [...files].map(([path, c]) => ({ path, sha256: sha256(c), size: c.length })),
  });
  const contents = new Map([[CAPSULE_PATHS.manifest, manifest], ...files]);
  return { contents, archive: packCapsule(contents) };
}

/** A copy of `contents` with `path` replaced (or removed, for undefined). */
export function withEntry(
  contents: Map<string, Buffer>,
  path: string,
  content: Buffer | undefined,
): Map<string, Buffer> {
  const copy = new Map(contents);
  if (content === undefined) copy.delete(path);
  else copy.set(path, content);
  return copy;
}
