import { BridgeError } from '@app/core';
import { typedKafkaError } from './kafka.errors';
import { RD, RdkafkaError } from './rdkafka.native';

/** librdkafka's codes of the protocol errors kafka.errors.ts knows as permanent, by Kafka's name. */
const PROTOCOL_TYPE: Readonly<Record<number, string>> = {
  [RD.MSG_SIZE_TOO_LARGE]: 'MESSAGE_TOO_LARGE',
  [RD.RECORD_LIST_TOO_LARGE]: 'RECORD_LIST_TOO_LARGE',
  [RD.TOPIC_EXCEPTION]: 'INVALID_TOPIC_EXCEPTION',
  [RD.TOPIC_AUTHORIZATION_FAILED]: 'TOPIC_AUTHORIZATION_FAILED',
  [RD.CLUSTER_AUTHORIZATION_FAILED]: 'CLUSTER_AUTHORIZATION_FAILED',
  [RD.INVALID_RECORD]: 'INVALID_RECORD',
  [RD.CORRUPT_MESSAGE]: 'CORRUPT_MESSAGE',
};

/** Turns a librdkafka error into a typed BridgeError, with the same table as kafkajs's errors. */
export function rdkafkaToBridgeError(error: RdkafkaError): BridgeError {
  const type = PROTOCOL_TYPE[error.code];
  return typedKafkaError(error, type === undefined ? [] : [type]);
}

/** Whether the producer that reported `error` can no longer be used (idempotence state lost). */
export function isFatal(error: RdkafkaError): boolean {
  return error.isFatal === true || error.code === RD.FATAL;
}

/**
 * Codes after which the idempotent producer's id or sequence numbers no longer match the
 * broker's: librdkafka raises them as fatal, but the binding passes the fatal flag on for
 * neither error events nor delivery reports, only the underlying code. The records of the
 * failing request are reported with it; a new producer must send them again.
 */
const BREAKS_IDEMPOTENCE = new Set<number>([
  RD.FATAL,
  RD.INCONSISTENT,
  RD.FENCED,
  RD.GAPLESS_GUARANTEE,
  RD.OUT_OF_ORDER_SEQUENCE_NUMBER,
  RD.INVALID_PRODUCER_EPOCH,
  RD.INVALID_PRODUCER_ID_MAPPING,
  RD.UNKNOWN_PRODUCER_ID,
  RD.PRODUCER_FENCED,
]);

/** Whether `code` leaves an idempotent producer unusable (see BREAKS_IDEMPOTENCE). */
export function breaksIdempotence(code: number): boolean {
  return BREAKS_IDEMPOTENCE.has(code);
}

/**
 * Whether librdkafka dropped the record unsent or unconfirmed: purged from its queues, which it
 * does to what it holds when the producer fails for good (and when closed).
 */
export function isPurged(error: RdkafkaError): boolean {
  return error.code === RD.PURGE_QUEUE || error.code === RD.PURGE_INFLIGHT;
}

/** Whether an error event's code says the brokers cannot be reached (not about one record). */
export function isConnectionCode(code: number): boolean {
  return code === RD.ALL_BROKERS_DOWN || code === RD.TRANSPORT;
}
