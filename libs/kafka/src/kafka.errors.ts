import { BridgeError, DestinationRejectedError, DestinationUnavailableError } from '@app/core';

/** Kafka protocol error types that mean "this record will never be accepted". */
const PERMANENT: Readonly<Record<string, string>> = {
  MESSAGE_TOO_LARGE: 'record-too-large',
  RECORD_LIST_TOO_LARGE: 'record-too-large',
  INVALID_TOPIC_EXCEPTION: 'invalid-topic',
  TOPIC_AUTHORIZATION_FAILED: 'not-authorized',
  CLUSTER_AUTHORIZATION_FAILED: 'not-authorized',
  INVALID_RECORD: 'invalid-record',
  CORRUPT_MESSAGE: 'invalid-record',
};

/**
 * Turns whatever kafkajs threw into a typed BridgeError. The protocol error type decides,
 * looked up through the cause chain (kafkajs wraps the last failure when its retries run
 * out). Anything not known to be permanent counts as "unavailable": waiting costs time,
 * dead-lettering a record that would have gone through costs a manual replay.
 */
export function toBridgeError(error: unknown): BridgeError {
  if (error instanceof BridgeError) return error;
  for (let e = error as { type?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    const code = typeof e.type === 'string' ? PERMANENT[e.type] : undefined;
    if (code) return new DestinationRejectedError(`Kafka refused the record (${String(e.type)})`, code, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new DestinationUnavailableError(`Kafka unavailable: ${message}`, { cause: error });
}
