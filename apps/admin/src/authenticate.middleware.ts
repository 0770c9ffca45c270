import type { NextFunction, Request, Response } from 'express';
import { AuditLog, FailureLimiter, Principal, TokenAuthenticator } from '@app/admin';

/** Request with the principal authentication found. */
export type AuthedRequest = Request & { principal?: Principal };

export function clientAddress(request: Request): string {
  return request.socket.remoteAddress ?? 'unknown';
}

/**
 * Express middleware for every /v1 route, ahead of body parsing, so nothing about a request
 * is looked at before its token: 429 while the client is blocked for repeated failures, 401
 * without a valid bearer token. The role check (403) is AuthGuard's.
 */
export function authenticate(auth: TokenAuthenticator, limiter: FailureLimiter, audit: AuditLog) {
  return (request: AuthedRequest, response: Response, next: NextFunction): void => {
    const remote = clientAddress(request);
    const action = `${request.method} ${request.originalUrl.split('?')[0]}`;
    const refuse = (status: number, error: string, message: string, audited: boolean) => {
      const event = { tokenId: '-', remote, action, result: 'denied' as const, status, code: error };
      void (audited ? audit.record(event) : Promise.resolve()).finally(() => response.status(status).json({ statusCode: status, error, message }));
    };
    const wait = limiter.blockedFor(remote);
    if (wait > 0) {
      response.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
      // A blocked client could otherwise grow the audit log without bound: its first refusal per window is enough.
      refuse(429, 'rate-limited', 'too many failed authentications from this address; retry later', limiter.refused(remote));
      return;
    }
    const principal = auth.authenticate(request.headers.authorization);
    if (!principal) {
      limiter.fail(remote);
      refuse(401, 'unauthenticated', 'a valid bearer token is required (Authorization: Bearer <token>)', true);
      return;
    }
    request.principal = principal;
    next();
  };
}

/** Bodies must be JSON: another content type would otherwise be read as an empty body (rotate would generate instead of import). */
export function requireJsonBodies(request: Request, response: Response, next: NextFunction): void {
  const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
  if (hasBody && !request.is('application/json')) {
    response.status(415).json({ statusCode: 415, error: 'unsupported-media-type', message: 'request bodies must be application/json' });
    return;
  }
  next();
}
