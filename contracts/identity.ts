import { z } from 'zod';

// Who is calling, and what they may do. The API authenticates every request (API key or OIDC token)
// into a Principal; every read and write is scoped to the principal's tenants in the query itself.

export const TenantName = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes (max 63)');

export const roles = ['submitter', 'approver', 'auditor', 'admin'] as const;
export const Role = z.enum(roles, { error: `must be one of ${roles.join(', ')}` });
export type Role = z.infer<typeof Role>;

/** What a request can do, and which roles may do it. Admin manages keys; it does not submit or approve. */
export const permissions = {
  'intent:read': ['submitter', 'approver', 'auditor', 'admin'],
  'intent:submit': ['submitter'],
  'intent:cancel': ['submitter', 'admin'],
  'intent:decide': ['approver'],
  'audit:read': ['auditor', 'admin'],
  'keys:manage': ['admin'],
  'webhooks:manage': ['admin'],
  'metrics:read': ['auditor', 'admin'],
  // The codec server (docs/encryption.md): decrypted payloads for the Web UI and temporal CLI, any tenant's.
  'payloads:decode': ['approver', 'auditor', 'admin'],
  'payloads:encode': ['approver', 'admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof permissions;

export const AuthMethod = z.enum(['api-key', 'oidc']);
export type AuthMethod = z.infer<typeof AuthMethod>;

/** An authenticated caller. `subject` is stable and unique (`key:<prefix>` or `oidc:<issuer>#<sub>`). */
export const Principal = z.object({
  subject: z.string().min(1).max(500),
  /** What people see: the key's name, or the token's name/email claim. */
  name: z.string().min(1).max(200),
  tenants: z.array(TenantName).min(1),
  roles: z.array(Role),
  method: AuthMethod,
});
export type Principal = z.infer<typeof Principal>;

export function can(principal: Principal, permission: Permission): boolean {
  return principal.roles.some((role) => (permissions[permission] as readonly Role[]).includes(role));
}

/** `POST /keys`: a new API key for one tenant (the caller's, by default) with some roles. */
export const CreateApiKeyRequest = z.strictObject({
  name: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .regex(/^[\x20-\x7e]{1,100}$/, 'must be 1–100 printable ASCII characters'),
  tenant: TenantName.optional(),
  roles: z.array(Role, { error: 'must be a list of roles' }).min(1, 'must name at least one role').max(4),
  /** Days until it expires (default 90; at most 3650). */
  expiresInDays: z.number().int().min(1).max(3650).default(90),
});
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyRequest>;
