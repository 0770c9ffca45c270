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
 * looked up through the cause chain. Anything not known to be permanent counts as "unavailable": waiting costs time,
 * dead-lettering a record that would have gone through costs a manual replay.
 */
export function toBridgeError(error: unknown): BridgeError {
  if (error instanceof BridgeError) return error;
  return typedKafkaError(error, protocolErrorTypes(error));
}

/**
 * The typed error for a Kafka failure whose protocol error types are `types` (Kafka's names,
 * as kafkajs spells them): rejected for good when one is permanent, else unavailable.
 */
export function typedKafkaError(error: unknown, types: Iterable<string>): BridgeError {
  for (const type of types) {
    const code = PERMANENT[type];
    if (code) return new DestinationRejectedError(`Kafka refused the record (${type})`, code, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new DestinationUnavailableError(`Kafka unavailable: ${message}`, { cause: error });
}

/**
 * Protocol errors after which the idempotent producer's id or sequence numbers no longer match
 * the broker's (kafkajs rolls sequences back on a failed request even where the broker wrote
 * it: kafkajs #598). Resending on the same producer fails the same way for ever.
 */
const BROKEN_PRODUCER_STATE = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
]);

/** Whether the producer that got `error` has to be replaced (new producer id) before a resend can succeed. */
export function breaksProducerState(error: unknown): boolean {
  for (const type of protocolErrorTypes(error)) if (BROKEN_PRODUCER_STATE.has(type)) return true;
  return false;
}

/** The kafkajs protocol error types along the cause chain (kafkajs wraps the last failure when its retries run out). */
function* protocolErrorTypes(error: unknown): Generator<string> {
  for (let e = error as { type?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.type === 'string') yield e.type;
  }
}

const COORDINATOR_NOT_READY = new Set(['GROUP_LOAD_IN_PROGRESS', 'GROUP_COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR_FOR_GROUP']);

/**
 * Whether a consumer-group request failed because the group's coordinator is not there yet: on a
 * new cluster the first group waits for Kafka to create its offsets topic, seconds with the
 * default 50 partitions.
 */
export function coordinatorNotReady(error: unknown): boolean {
  if ((error as Error | undefined)?.name === 'KafkaJSGroupCoordinatorNotFound') return true;
  for (const type of protocolErrorTypes(error)) if (COORDINATOR_NOT_READY.has(type)) return true;
  return false;
}
