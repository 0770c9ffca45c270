import { BridgeError } from '@app/core';

/**
 * The registry could not be asked or did not answer usefully: down, unreachable, timed out, a
 * 5xx, rate-limited, or refusing our credentials. Retried: nothing about the message is wrong,
 * and an operator can fix the registry or the credentials while messages wait.
 */
export class RegistryUnavailableError extends BridgeError {
  readonly retriable = true;
  readonly code = 'registry-unavailable';

  constructor(
    message: string,
    /** HTTP status when the registry answered, undefined when it could not be reached. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The registry answered that the schema is not there or not acceptable (no such subject,
 * version or id; an incompatible or invalid schema on registration), or a schema it gave cannot
 * be compiled. Asking again gives the same answer: never retried, the message is dead-lettered.
 */
export class SchemaUnavailableError extends BridgeError {
  readonly retriable = false;
  readonly code = 'schema-unavailable';

  constructor(
    message: string,
    /** HTTP status when the registry answered. */
    readonly status?: number,
    /** The registry's own `error_code` (e.g. 40401 subject not found), when it gave one. */
    readonly registryCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
