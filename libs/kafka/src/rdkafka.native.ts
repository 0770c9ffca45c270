/**
 * The part of `@confluentinc/kafka-javascript`'s native producer (node-rdkafka's API) the bridge
 * uses. Declared here because the package is an optional dependency: the bridge builds and
 * type-checks where its native build failed, and then writes with kafkajs.
 */

/** A librdkafka error as the binding reports it: `code` is librdkafka's (negative: local). */
export interface RdkafkaError extends Error {
  readonly code: number;
  readonly isFatal?: boolean;
  readonly isRetriable?: boolean;
  /** "local", "kafka", or for an error event the text before its first ": " ("fatal error"). */
  readonly origin?: string;
}

export interface RdkafkaDeliveryReport {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly opaque?: unknown;
}

export type RdkafkaHeaders = Array<Record<string, string | Buffer>>;

export interface RdkafkaProducer {
  connect(metadataOptions: { timeout?: number }, callback: (error: RdkafkaError | null) => void): void;
  /** Delivery reports from a native thread, without a JavaScript timer. */
  setPollInBackground(enabled: boolean): void;
  /** Queues a record; throws an RdkafkaError (QUEUE_FULL, MSG_SIZE_TOO_LARGE, ...) when it cannot. */
  produce(topic: string, partition: number | null, value: Buffer, key: string | null, timestamp: number, opaque: unknown, headers: RdkafkaHeaders): void;
  on(event: 'delivery-report', listener: (error: RdkafkaError | null, report: RdkafkaDeliveryReport) => void): void;
  on(event: 'event.error', listener: (error: RdkafkaError) => void): void;
  flush(timeoutMs: number, callback: (error: RdkafkaError | null) => void): void;
  disconnect(timeoutMs: number, callback: () => void): void;
  /** The binding's disconnect without the flush: releases the native callbacks of a producer whose connect failed. */
  _disconnect?(callback: () => void): void;
}

/** librdkafka error codes the writer reads (rdkafka.h). */
export const RD = {
  TRANSPORT: -195,
  MSG_TIMED_OUT: -192,
  UNKNOWN_TOPIC: -188,
  ALL_BROKERS_DOWN: -187,
  QUEUE_FULL: -184,
  PURGE_QUEUE: -152,
  PURGE_INFLIGHT: -151,
  FATAL: -150,
  INCONSISTENT: -149,
  FENCED: -144,
  GAPLESS_GUARANTEE: -148,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_PRODUCER_ID_MAPPING: 49,
  UNKNOWN_PRODUCER_ID: 59,
  PRODUCER_FENCED: 90,
  CORRUPT_MESSAGE: 2,
  MSG_SIZE_TOO_LARGE: 10,
  TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  TOPIC_AUTHORIZATION_FAILED: 29,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_RECORD: 87,
} as const;
