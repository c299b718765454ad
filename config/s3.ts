import { isLoopbackUrl } from '../contracts/loopback';

/** The credentials the local SeaweedFS is set up with (scripts/services/s3.ts): public, so only for a store on this machine. */
export const DEV_S3_ACCESS_KEY = 'qlp-dev-access-key';
export const DEV_S3_SECRET_KEY = 'qlp-dev-secret-key-change-me';

/** A non-local endpoint with the development credentials is refused at start-up, naming the variable to set. */
export function devCredentialIssues(s3: { endpoint: string; accessKey: string; secretKey: string }) {
  if (isLoopbackUrl(s3.endpoint)) return [];
  const reason = (variable: string) =>
    `is the development default, refused for the non-local S3 endpoint ${new URL(s3.endpoint).host}: set ${variable} to that store's own credential`;
  return [
    ...(s3.accessKey === DEV_S3_ACCESS_KEY ? [{ variable: 'S3_ACCESS_KEY', reason: reason('S3_ACCESS_KEY') }] : []),
    ...(s3.secretKey === DEV_S3_SECRET_KEY ? [{ variable: 'S3_SECRET_KEY', reason: reason('S3_SECRET_KEY') }] : []),
  ];
}
