import { ArgumentsHost, BadRequestException, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { AdminError, InvalidRequestError } from '@app/admin';
import { LogThrottle } from '@app/core';
import { KeystoreIntegrityError, KeystoreUnavailableError } from '@app/keystore';

/**
 * One JSON error shape for every failure: `{ statusCode, error, message, problems? }`.
 * Typed errors choose their status; anything unexpected is a 500 whose details stay in the log.
 */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  private readonly log = new Logger('AdminApi');
  // Every request meets an unavailable keystore alike: one line per 30 s says it all.
  private readonly unavailable = new LogThrottle(30_000);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const [status, body] = this.describe(exception);
    response.status(status).json(body);
  }

  private describe(e: unknown): [number, Record<string, unknown>] {
    if (e instanceof InvalidRequestError) return [400, { statusCode: 400, error: e.code, message: e.message, problems: e.problems }];
    if (e instanceof AdminError) return [e.status, { statusCode: e.status, error: e.code, message: e.message }];
    // The message names the keystore and generations, never key material.
    if (e instanceof KeystoreIntegrityError) return [409, { statusCode: 409, error: e.code, message: e.message }];
    if (e instanceof KeystoreUnavailableError) {
      const line = this.unavailable.admit(e.message);
      if (line.due)
        this.log.error(line.suppressed > 0 ? `${e.message} (${line.suppressed} more requests refused with the same error in the last 30 s)` : e.message);
      return [503, { statusCode: 503, error: e.code, message: 'the keystore is unavailable; retry later' }];
    }
    // The service's own 400s are InvalidRequestError: a BadRequestException is Nest's mapping of
    // a body that is not JSON or a badly encoded URL, whose message may quote the input.
    if (e instanceof BadRequestException) {
      return [400, { statusCode: 400, error: 'malformed-request', message: 'the body is not valid JSON, or the URL is badly encoded' }];
    }
    if (e instanceof HttpException) {
      const r = e.getResponse();
      return [
        e.getStatus(),
        typeof r === 'object' ? { statusCode: e.getStatus(), ...(r as object) } : { statusCode: e.getStatus(), error: 'http', message: String(r) },
      ];
    }
    // Body parser errors (413 too large, 400 bad JSON) carry their own status.
    const status = (e as { status?: number; type?: string }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const type = (e as { type?: string }).type;
      const message =
        type === 'entity.too.large' ? 'request body too large' : type === 'entity.parse.failed' ? 'request body is not valid JSON' : 'bad request body';
      return [status, { statusCode: status, error: type ?? 'bad-request', message }];
    }
    this.log.error(`unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return [500, { statusCode: 500, error: 'internal', message: 'internal error (see the service log)' }];
  }
}
