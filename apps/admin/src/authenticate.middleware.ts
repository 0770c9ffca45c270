import type { NextFunction, Request, Response } from 'express';
import { AuditLog, FailureLimiter, Principal, TokenAuthenticator } from '@app/admin';

/** Request with the principal authentication found. */
export type AuthedRequest = Request & { principal?: Principal };

/** The client: Express's `req.ip`, which follows X-Forwarded-For only through `admin.trustedProxies` ('trust proxy'). */
export function clientAddress(request: Request): string {
  return request.ip ?? request.socket.remoteAddress ?? 'unknown';
}

/**
 * Express middleware for every /v1 route, ahead of body parsing, so nothing about a request
 * is looked at before its token. A valid token always passes: the limiter exists to slow
 * guessing, and counting only failures by address would otherwise let anyone sharing an
 * address (a proxy, a NAT) lock the admins out. Without a valid token: 429 while the client is
 * blocked for repeated failures, else 401 (counted). The role check (403) is AuthGuard's.
 */
export function authenticate(auth: TokenAuthenticator, limiter: FailureLimiter, audit: AuditLog) {
  return (request: AuthedRequest, response: Response, next: NextFunction): void => {
    const remote = clientAddress(request);
    const action = `${request.method} ${request.originalUrl.split('?')[0]}`;
    const refuse = (status: number, error: string, message: string, audited: boolean) => {
      const event = { tokenId: '-', remote, action, result: 'denied' as const, status, code: error };
      void (audited ? audit.record(event) : Promise.resolve()).finally(() => response.status(status).json({ statusCode: status, error, message }));
    };
    const principal = auth.authenticate(request.headers.authorization);
    if (principal) {
      request.principal = principal;
      next();
      return;
    }
    const wait = limiter.blockedFor(remote);
    if (wait > 0) {
      response.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
      // A blocked client could otherwise grow the audit log without bound: its first refusal per window is enough.
      refuse(429, 'rate-limited', 'too many failed authentications from this address; retry later', limiter.refused(remote));
      return;
    }
    limiter.fail(remote);
    refuse(401, 'unauthenticated', 'a valid bearer token is required (Authorization: Bearer <token>)', true);
  };
}

/** Responses may carry key material (exports) or key metadata: no cache, proxy or browser, may keep them. */
export function noStore(_request: Request, response: Response, next: NextFunction): void {
  response.setHeader('Cache-Control', 'no-store');
  next();
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
