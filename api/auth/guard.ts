import type { Response } from 'express';
import { can, permissions, type Permission, type Principal } from '../../contracts/identity';
import { Problem } from '../problems';

/** The authenticated caller of this request (set by the authenticate middleware). */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new Problem(401, 'Unauthorized', 'this route needs credentials');
  return principal;
}

/** The caller, if their roles allow `permission`; otherwise a 403 naming the roles that would. */
export function authorize(res: Response, permission: Permission): Principal {
  const principal = principalOf(res);
  if (!can(principal, permission)) {
    throw new Problem(
      403,
      'Forbidden',
      `${permission} needs one of the roles ${permissions[permission].join(', ')}; you have ${principal.roles.join(', ') || 'none'}`,
    );
  }
  return principal;
}

/**
 * The `where` fragment that scopes a query to the tenants the caller may see. Put it in the query
 * itself: a row of another tenant is then indistinguishable from one that does not exist (404).
 */
export function tenantScope(principal: Principal): { tenant: { in: string[] } } {
  return { tenant: { in: principal.tenants } };
}
