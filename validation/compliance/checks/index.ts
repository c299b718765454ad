import type { ComplianceCheck } from '../check';
import { missingAuditLogging, missingAuthorization, noAuthRateLimit, weakJwtVerification } from './access-control';
import { insecureRandomness, weakCryptography, weakPasswordHash } from './cryptography';
import { piiInLogs, unencryptedSensitiveField } from './data-protection';
import { commandInjection, sqlInjection } from './injection';
import { hardcodedSecret, licenceViolation, untrustedDependency } from './supply-chain';
import {
  cleartextTransmission,
  insecureCookie,
  permissiveCorsWithCredentials,
  tlsVerificationDisabled,
} from './transport';

/** Every built-in check, by id: rule packs may refer to these and only these. */
export const CHECKS: ReadonlyMap<string, ComplianceCheck> = new Map(
  [
    tlsVerificationDisabled,
    cleartextTransmission,
    permissiveCorsWithCredentials,
    insecureCookie,
    weakPasswordHash,
    weakCryptography,
    insecureRandomness,
    sqlInjection,
    commandInjection,
    piiInLogs,
    unencryptedSensitiveField,
    missingAuthorization,
    missingAuditLogging,
    noAuthRateLimit,
    weakJwtVerification,
    hardcodedSecret,
    untrustedDependency,
    licenceViolation,
  ].map((check) => [check.id, check]),
);
