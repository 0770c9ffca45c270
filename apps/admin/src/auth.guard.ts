import { CanActivate, ExecutionContext, HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditLog, Role } from '@app/admin';
import { AUDIT_LOG } from './admin.tokens';
import { AuthedRequest, clientAddress } from './authenticate.middleware';
import { ROLE_KEY } from './roles.decorator';

const RANK: Record<Role, number> = { reader: 1, admin: 2 };

/**
 * Authorisation for every route: the principal the authenticate middleware found must hold the
 * route's role (default admin), else 403, audited. No principal at all is a 401 (a route the
 * middleware did not cover is refused rather than left open).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AUDIT_LOG) private readonly audit: AuditLog,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    const principal = request.principal;
    if (!principal)
      throw new HttpException({ statusCode: 401, error: 'unauthenticated', message: 'a valid bearer token is required' }, HttpStatus.UNAUTHORIZED);
    const needed = this.reflector.getAllAndOverride<Role | undefined>(ROLE_KEY, [context.getHandler(), context.getClass()]) ?? 'admin';
    if (RANK[principal.role] < RANK[needed]) {
      const action = `${request.method} ${request.route?.path ?? request.path}`;
      await this.audit.record({ tokenId: principal.tokenId, remote: clientAddress(request), action, result: 'denied', status: 403, code: 'forbidden' });
      throw new HttpException(
        { statusCode: 403, error: 'forbidden', message: `token ${principal.tokenId} has role ${principal.role}; this route needs ${needed}` },
        HttpStatus.FORBIDDEN,
      );
    }
    return true;
  }
}
