import { IHeaders } from 'kafkajs';
import { DeliveryConfig } from './kafka.schema';

/** One record as the Kafka destination hands it to the writer. */
export interface KafkaRecord {
  readonly topic: string;
  readonly key: string | null;
  readonly value: Buffer;
  readonly partition?: number;
  readonly headers: IHeaders;
  /** The rule the record is written for, for accounting only. */
  readonly rule?: string;
}

/** Told about records the writer sends again, so retries can be counted per rule. */
export type RetryListener = (records: readonly KafkaRecord[]) => void;

/**
 * The worker's one producer side of a Kafka cluster, shared by every Kafka destination and the
 * dead-letter writer. Two implementations: `KafkajsWriter` (kafkajs) and `RdkafkaWriter`
 * (librdkafka); `openKafkaWriter` chooses per `kafka.producer.client`.
 *
 * - `write` resolves once Kafka confirmed the record as `delivery` asks (acks, idempotence) and
 *   rejects with a typed BridgeError: `retriable` false for a record Kafka will never take
 *   (dead-letter it), a DeliveryFailedError once the retry policy gave up, a ShutdownError when
 *   closed first. Records of one delivery setting and partition are written in call order.
 * - `close` stops taking records, waits up to `timeoutMs` for those in flight, then rejects the
 *   rest with ShutdownError (their MQTT messages stay unacknowledged and come again).
 */
export interface KafkaWriter {
  /** Whether the last contact with Kafka (a probe or a produce request) succeeded. */
  readonly reachable: boolean;
  /** Records taken and not yet confirmed or failed. */
  readonly queued: number;
  /** Which client library writes (logged at start-up). */
  readonly client: 'kafkajs' | 'librdkafka';
  /** Checks the cluster answers, reusing the last answer for `maxAgeMs`. */
  probe(maxAgeMs?: number): Promise<boolean>;
  write(record: KafkaRecord, delivery: DeliveryConfig): Promise<void>;
  close(timeoutMs?: number): Promise<void>;
}
