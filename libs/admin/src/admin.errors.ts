import { BridgeError } from '@app/core';

/**
 * What a key operation can refuse, each with the HTTP status the admin API answers. Messages
 * name keys, versions and rules, never key material.
 */
export abstract class AdminError extends BridgeError {
  readonly retriable: boolean = false;
  abstract readonly status: number;
}

export class KeyNotFoundError extends AdminError {
  readonly status = 404;
  readonly code = 'key-not-found';
  constructor(name: string, detail = '') {
    super(`no key named "${name}"${detail}`);
  }
}

export class VersionNotFoundError extends AdminError {
  readonly status = 404;
  readonly code = 'version-not-found';
  constructor(name: string, version: number) {
    super(`key "${name}" has no version ${version}`);
  }
}

/** The operation does not fit the key's current state (exists already, deleted, primary version...). */
export class KeyStateError extends AdminError {
  readonly status = 409;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Key material or a request field that cannot be used; `field` is the body path. */
export class InvalidRequestError extends AdminError {
  readonly status = 400;
  readonly code = 'invalid-request';
  constructor(readonly problems: ReadonlyArray<{ field: string; message: string }>) {
    super(problems.map((p) => `${p.field || '(body)'}: ${p.message}`).join('; '));
  }
}

/** An export is refused when its audit record cannot be written first. */
export class AuditUnavailableError extends AdminError {
  override readonly retriable = true;
  readonly status = 503;
  readonly code = 'audit-unavailable';
  constructor() {
    super('the audit log cannot be written; exports are refused until it can');
  }
}
