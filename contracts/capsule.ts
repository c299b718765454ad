import { z } from 'zod';

// QuantumCapsule v2: what the archive carries besides the project, and what its verification reports.
// docs/capsule-format.md describes the layout; capsule/ builds it and capsule/verify.ts checks it.

export const CAPSULE_FORMAT_V1 = 'quantumcapsule/v1';
export const CAPSULE_FORMAT_V2 = 'quantumcapsule/v2';

/** Archive paths of the v2 documents. The manifest lists every entry but itself and the signatures. */
export const CAPSULE_PATHS = {
  manifest: 'capsule.json',
  sbom: 'sbom.cdx.json',
  provenance: 'provenance.intoto.json',
  approval: 'approval.json',
  complianceMarkdown: 'compliance-report.md',
  complianceHtml: 'compliance-report.html',
  validationReport: 'reports/validation-report.json',
  /** DSSE envelopes over the manifest's and the provenance statement's exact bytes. */
  manifestSignature: 'signatures/capsule.json.dsse.json',
  provenanceSignature: 'signatures/provenance.intoto.json.dsse.json',
} as const;

/** DSSE payload types (https://github.com/secure-systems-lab/dsse). */
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.quantumlayer.capsule.v2+json';
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be standard base64');
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (sha256)');

/** A signing key's id: `ed25519:` and the first 32 hex digits of sha256 over its SPKI DER encoding. */
export const KeyId = z.string().regex(/^ed25519:[0-9a-f]{32}$/, 'must be a key id such as ed25519:<32 hex digits>');

export const DsseSignature = z.strictObject({ keyid: KeyId, sig: base64 });
export const DsseEnvelope = z.strictObject({
  payloadType: z.string().min(1),
  payload: base64,
  signatures: z.array(DsseSignature).min(1),
});
export type DsseEnvelope = z.infer<typeof DsseEnvelope>;

/** A public key that capsules may be signed with; retired keys stay listed so old capsules still verify. */
export const SigningKeyView = z.object({
  keyId: KeyId,
  algorithm: z.literal('ed25519'),
  publicKeyPem: z.string(),
  createdAt: z.iso.datetime(),
  /** When capsules stopped being signed with it (a newer key took over); null while active. */
  retiredAt: z.iso.datetime().nullable(),
});
export type SigningKeyView = z.infer<typeof SigningKeyView>;
export const SigningKeyList = z.object({ keys: z.array(SigningKeyView) });
export type SigningKeyList = z.infer<typeof SigningKeyList>;

/** The seed's capsule metadata (capsule.json `metadata`). */
export const CapsuleMetadata = z.object({
  name: z.string(),
  description: z.string(),
  /** The project's version (its package.json's, else `<capsule version>.0.0`). */
  version: z.string(),
  technologies: z.array(z.string()),
  dependencies: z.array(z.object({ name: z.string(), version: z.string(), scope: z.enum(['runtime', 'dev']) })),
  /** The most severe finding's severity; `none` without findings, `unknown` when a layer was not assessed. */
  securityRisk: z.enum(['none', 'info', 'low', 'medium', 'high', 'critical', 'unknown']),
  qualityScore: z.number().int().min(0).max(100).nullable(),
  /** As given at submission. */
  tags: z.array(z.string()),
});
export type CapsuleMetadata = z.infer<typeof CapsuleMetadata>;

/** The review the approvers saw: digest of the files, of reports/validation-report.json, and of both. */
export const ReviewDigest = z.object({ files: hex64, report: hex64, review: hex64 });
export type ReviewDigest = z.infer<typeof ReviewDigest>;

/** approval.json: the gate's decision as the workflow recorded it. */
export const ApprovalRecord = z.object({
  schemaVersion: z.literal(1),
  intentId: z.string(),
  decision: z.enum(['approve', 'reject', 'request_changes']),
  via: z.string(),
  decidedAt: z.iso.datetime().nullable(),
  /** The version approved (1 unless changes were requested; absent in capsules built before versions). */
  version: z.number().int().min(1).optional(),
  /** Gates decided before this approval, oldest first: the plan gate and earlier versions (absent when none). */
  history: z
    .array(
      z.object({
        gate: z.enum(['plan', 'release']),
        version: z.number().int().nullable(),
        decision: z.enum(['approve', 'reject', 'request_changes']),
        by: z.string(),
        decidedAt: z.iso.datetime().nullable(),
        digest: hex64.nullable(),
        reason: z.string().nullable(),
        changes: z.array(z.object({ task: z.string().nullable(), file: z.string().nullable(), comment: z.string() })),
      }),
    )
    .optional(),
  /** The review digest the decision is bound to (null for decisions taken before digests existed). */
  digest: hex64.nullable(),
  /** False when an unsigned ops signal took part. */
  authenticated: z.boolean(),
  policy: z.object({
    /** Distinct approvers required (N of M). */
    required: z.number().int().min(1),
    /** Whether the submitter was allowed to approve their own intent (separation of duties when false). */
    selfApproval: z.boolean(),
    submittedBy: z.string().nullable(),
  }),
  approvers: z.array(
    z.object({
      subject: z.string(),
      name: z.string(),
      roles: z.array(z.string()),
      method: z.string(),
      via: z.string(),
      decidedAt: z.iso.datetime(),
      digest: hex64.nullable(),
      reason: z.string().nullable(),
    }),
  ),
});
export type ApprovalRecord = z.infer<typeof ApprovalRecord>;

/** One check of a verification, named so a failure says exactly what did not hold. */
export const VerificationCheck = z.object({
  check: z.string(),
  ok: z.boolean(),
  detail: z.string(),
});
export type VerificationCheck = z.infer<typeof VerificationCheck>;

export const VerificationResult = z.object({
  /** `verified`: every check held; `unsigned`: a v1 capsule whose digests hold but that carries no signature. */
  status: z.enum(['verified', 'unsigned', 'failed']),
  format: z.string().nullable(),
  capsuleId: z.string().nullable(),
  intentId: z.string().nullable(),
  version: z.number().int().nullable(),
  /** Key ids whose signatures verified. */
  signedBy: z.array(KeyId),
  fileCount: z.number().int(),
  checks: z.array(VerificationCheck),
  /** The failed checks' details, first first. */
  errors: z.array(z.string()),
});
export type VerificationResult = z.infer<typeof VerificationResult>;

/**
 * Signs capsules. The local implementation holds an ed25519 key file (adapters/signing/local-key.ts); a
 * KMS or HSM signer implements the same three members, keeping the private key out of the process.
 */
export interface CapsuleSigner {
  /** The key's id (KeyId), recorded in every signature it makes. */
  readonly keyId: string;
  /** SPKI PEM of the public key, registered so the API can serve it (GET /api/v1/signing-keys). */
  readonly publicKeyPem: string;
  /** An ed25519 signature over `message` (here: a DSSE pre-authentication encoding). */
  sign(message: Uint8Array): Promise<Uint8Array>;
}
