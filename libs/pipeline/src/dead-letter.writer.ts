import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { IHeaders } from 'kafkajs';
import { BridgeMessage, classify, ClassifiedFailure, DeliveryFailedError, retry, RetryPolicy } from '@app/core';
import { HEADER, KafkaWriter, mqttHeaders } from '@app/kafka';
import { DeadLetterTarget } from '@app/bridge-config';

/** Headers of a dead-letter record, on top of the `mqtt.*` ones; documented in docs/dead-letters.md. */
export const DLQ_HEADER = {
  reason: 'bridge.dlq.reason',
  message: 'bridge.dlq.message',
  destination: 'bridge.dlq.destination',
  failureClass: 'bridge.dlq.class',
  attempts: 'bridge.dlq.attempts',
  firstFailureAt: 'bridge.dlq.first-failure-at',
  lastFailureAt: 'bridge.dlq.last-failure-at',
  /** `cut` when the payload was too large to dead-letter whole: the record keeps its first bytes only. */
  payload: 'bridge.dlq.payload',
  payloadBytes: 'bridge.dlq.payload-bytes',
  payloadSha256: 'bridge.dlq.payload-sha256',
} as const;

/** What a cut dead letter keeps of its payload: enough to recognise it (an envelope's header, a JSON start). */
export const CUT_PAYLOAD_BYTES = 1024;

export interface DeadLetter {
  readonly message: BridgeMessage;
  readonly rule: string;
  readonly destination: string;
  readonly failure: ClassifiedFailure;
  readonly target: DeadLetterTarget;
  /** Where the message came from when not from MQTT (a Kafka record's topic, partition, offset, key), as extra fields. */
  readonly origin?: Readonly<Record<string, string>>;
}

/** Publishes on the source broker and resolves once the broker confirmed (PUBACK/PUBCOMP). */
export type MqttPublish = (
  topic: string,
  payload: Buffer,
  options: { qos: 1 | 2; properties: { userProperties: Record<string, string | string[]>; contentType?: string; correlationData?: Buffer } },
) => Promise<void>;

/**
 * Writes what could not be delivered to the rule's dead-letter target, with the original
 * payload bytes untouched and the reason as Kafka headers or MQTT 5 user properties. A dead
 * letter is the last stop: if its own write fails it is retried until it succeeds or the
 * bridge shuts down (then the MQTT message stays unacknowledged and comes back).
 */
export class DeadLetterWriter {
  private readonly log = new Logger(DeadLetterWriter.name);
  private closing = false;
  private readonly sinks: {
    [T in DeadLetterTarget['type']]: (
      letter: DeadLetter & { target: Extract<DeadLetterTarget, { type: T }> },
      headers: IHeaders,
      payload: Buffer,
    ) => Promise<void>;
  };

  constructor(
    kafka: KafkaWriter,
    mqtt: MqttPublish,
    private readonly retry: RetryPolicy,
  ) {
    this.sinks = {
      kafka: (letter, headers, payload) =>
        kafka.write({ topic: letter.target.topic, key: letter.message.topic, value: payload, headers, rule: letter.rule }, { acks: 'all', idempotent: true }),
      mqtt: (letter, headers, payload) =>
        mqtt(letter.target.topic, payload, {
          qos: letter.target.qos,
          properties: {
            userProperties: asUserProperties(headers),
            contentType: letter.message.properties.contentType,
            correlationData: letter.message.properties.correlationData,
          },
        }),
    };
  }

  async write(letter: DeadLetter): Promise<void> {
    const sink = this.sinks[letter.target.type] as (l: DeadLetter, h: IHeaders, p: Buffer) => Promise<void>;
    let headers: IHeaders = { ...replayHeaders(letter), ...deadLetterMeta(letter) };
    let payload = letter.message.payload;
    const send = async (): Promise<void> => {
      try {
        await sink(letter, headers, payload);
      } catch (error) {
        if (classify(error).code !== 'record-too-large' || headers[DLQ_HEADER.payload] !== undefined) throw error;
        // Retrying the same bytes can never succeed, and would hold every later acknowledgement.
        ({ headers, payload } = cutLetter(headers, letter.message.payload));
        this.log.warn({
          msg: 'dead letter too large: writing it with its payload cut',
          rule: letter.rule,
          topic: letter.message.topic,
          bytes: letter.message.payload.length,
        });
        await sink(letter, headers, payload);
      }
    };
    // The last stop: every failure is retried, for as long as it takes, unless the bridge stops.
    await retry(send, {
      policy: { ...this.retry, maxAttempts: 0, maxElapsedMs: 0 },
      retriable: () => !this.closing,
      onRetry: (error, attempt, delay) =>
        this.log.error({
          msg: 'dead-letter write failed; the message stays unacknowledged',
          rule: letter.rule,
          topic: letter.message.topic,
          target: `${letter.target.type}:${letter.target.topic}`,
          reason: classify(error).code,
          attempt,
          retryInMs: delay,
        }),
    });
  }

  close(): void {
    this.closing = true;
  }
}

/**
 * Every `mqtt.*` header and `bridge.rule`, whatever the rule's Kafka destinations write
 * (`mqttHeaders` option): replay rebuilds the message from them (topic, QoS, retain flag,
 * MQTT 5 properties) and picks a rule's dead letters by `bridge.rule`.
 */
function replayHeaders(letter: DeadLetter): IHeaders {
  return mqttHeaders(letter.message, letter.rule, 'all');
}

/**
 * A dead letter too large for its target, made to fit: the first CUT_PAYLOAD_BYTES of the
 * payload, headers that say so and identify the whole (size, SHA-256), and no MQTT user
 * properties or correlation data (which can be as large as a payload). Replay refuses it.
 */
function cutLetter(headers: IHeaders, payload: Buffer): { headers: IHeaders; payload: Buffer } {
  const kept: IHeaders = {};
  for (const name in headers) {
    if (!name.startsWith(HEADER.userPrefix) && name !== HEADER.correlationData) kept[name] = headers[name];
  }
  kept[DLQ_HEADER.payload] = 'cut';
  kept[DLQ_HEADER.payloadBytes] = String(payload.length);
  kept[DLQ_HEADER.payloadSha256] = createHash('sha256').update(payload).digest('hex');
  return { headers: kept, payload: payload.subarray(0, CUT_PAYLOAD_BYTES) };
}

/** Why, where and how often it failed: the same fields whatever the target. */
function deadLetterMeta(letter: DeadLetter): Record<string, string> {
  const { failure } = letter;
  const now = new Date();
  const tried = failure instanceof DeliveryFailedError ? failure : undefined;
  return {
    [DLQ_HEADER.reason]: failure.code,
    [DLQ_HEADER.message]: failure.message,
    [DLQ_HEADER.failureClass]: failure.retriable ? 'transient' : 'permanent',
    [DLQ_HEADER.destination]: letter.destination,
    [DLQ_HEADER.attempts]: String(tried?.attempts ?? 1),
    [DLQ_HEADER.firstFailureAt]: (tried?.firstFailureAt ?? now).toISOString(),
    [DLQ_HEADER.lastFailureAt]: (tried?.lastFailureAt ?? now).toISOString(),
    ...letter.origin,
  };
}

/** Kafka-style headers as MQTT 5 user properties; binary values (correlation data) travel as their own property instead. */
function asUserProperties(headers: IHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') out[name] = value;
    else if (Array.isArray(value)) out[name] = value.map(String);
  }
  return out;
}
