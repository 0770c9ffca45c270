import { CanActivate, ExecutionContext, HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AuditLog, FailureLimiter, Principal, Role, TokenAuthenticator } from '@app/admin';
import { AUDIT_LOG, AUTHENTICATOR, FAILURE_LIMITER } from './admin.tokens';
import { ROLE_KEY } from './roles.decorator';

const RANK: Record<Role, number> = { reader: 1, admin: 2 };

/** Request with the principal the guard found. */
export type AuthedRequest = Request & { principal?: Principal };

/**
 * Every route: 429 while the client address is blocked for repeated failures, 401 without a
 * valid bearer token, 403 when the token's role is below the route's. Refusals are audited.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTHENTICATOR) private readonly auth: TokenAuthenticator,
    @Inject(FAILURE_LIMITER) private readonly limiter: FailureLimiter,
    @Inject(AUDIT_LOG) private readonly audit: AuditLog,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthedRequest>();
    const remote = clientAddress(request);
    const action = `${request.method} ${request.route?.path ?? request.path}`;
    const wait = this.limiter.blockedFor(remote);
    if (wait > 0) {
      http.getResponse<Response>().setHeader('Retry-After', String(Math.ceil(wait / 1000)));
      await this.audit.record({ tokenId: '-', remote, action, result: 'denied', status: 429, code: 'rate-limited' });
      throw new HttpException({ statusCode: 429, error: 'rate-limited', message: 'too many failed authentications from this address; retry later' }, HttpStatus.TOO_MANY_REQUESTS);
    }
    const principal = this.auth.authenticate(request.headers.authorization);
    if (!principal) {
      this.limiter.fail(remote);
      await this.audit.record({ tokenId: '-', remote, action, result: 'denied', status: 401, code: 'unauthenticated' });
      throw new HttpException({ statusCode: 401, error: 'unauthenticated', message: 'a valid bearer token is required (Authorization: Bearer <token>)' }, HttpStatus.UNAUTHORIZED);
    }
    const needed = this.reflector.getAllAndOverride<Role | undefined>(ROLE_KEY, [context.getHandler(), context.getClass()]) ?? 'admin';
    if (RANK[principal.role] < RANK[needed]) {
      await this.audit.record({ tokenId: principal.tokenId, remote, action, result: 'denied', status: 403, code: 'forbidden' });
      throw new HttpException({ statusCode: 403, error: 'forbidden', message: `token ${principal.tokenId} has role ${principal.role}; this route needs ${needed}` }, HttpStatus.FORBIDDEN);
    }
    request.principal = principal;
    return true;
  }
}

export function clientAddress(request: Request): string {
  return request.socket.remoteAddress ?? 'unknown';
}
