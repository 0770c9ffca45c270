/**
 * Every failure the pipeline reasons about. Retry and dead-letter decisions read
 * `retriable` and `code`, never the message text.
 */
export abstract class BridgeError extends Error {
  abstract readonly retriable: boolean;
  /** Stable reason code, carried into dead-letter records and metrics. */
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The destination could not be reached or did not answer in time; trying again may help. */
export class DestinationUnavailableError extends BridgeError {
  readonly retriable = true;
  readonly code = 'destination-unavailable';
}

/** The destination refused this record for good (too large, invalid topic, not authorised...). */
export class DestinationRejectedError extends BridgeError {
  readonly retriable = false;
  constructor(
    message: string,
    readonly code: string = 'destination-rejected',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The message itself cannot be bridged as received (e.g. its MQTT 5 properties were not valid UTF-8); never retried. */
export class MalformedMessageError extends BridgeError {
  readonly retriable = false;
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The bridge is shutting down; the message stays unacknowledged and the broker redelivers it. */
export class ShutdownError extends BridgeError {
  readonly retriable = false;
  readonly code = 'shutdown';
}

/** Anything that is not a typed failure is a bug: it is dead-lettered, never retried blindly. */
export class InternalError extends BridgeError {
  readonly retriable = false;
  readonly code = 'internal';
}

/** What retry and dead-letter decisions read of a failure. */
export interface ClassifiedFailure {
  readonly retriable: boolean;
  readonly code: string;
  readonly message: string;
}

/** Reads the class of any thrown value; untyped errors count as internal and non-retriable. */
export function classify(error: unknown): ClassifiedFailure {
  if (error instanceof BridgeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(message, { cause: error });
}

/**
 * The final failure of a delivery, after whatever retries its policy allowed: the class and
 * reason of the last error, plus how many attempts were made and when the first and last
 * failed (all carried into the dead-letter record).
 */
export class DeliveryFailedError extends BridgeError {
  readonly retriable: boolean;
  readonly code: string;

  constructor(
    last: ClassifiedFailure,
    readonly attempts: number,
    readonly firstFailureAt: Date,
    readonly lastFailureAt: Date,
  ) {
    super(last.message, { cause: last });
    this.retriable = last.retriable;
    this.code = last.code;
  }
}
