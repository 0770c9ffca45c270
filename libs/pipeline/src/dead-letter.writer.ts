import { Logger } from '@nestjs/common';
import { IHeaders } from 'kafkajs';
import { BridgeMessage, classify, ClassifiedFailure, DeliveryFailedError, nextDelay, RetryPolicy, ShutdownError } from '@app/core';
import { KafkaWriter, mqttHeaders } from '@app/kafka';
import { DeadLetterTarget } from './bridge-config.schema';

/** Headers of a dead-letter record, on top of the `mqtt.*` ones; documented in the README. */
export const DLQ_HEADER = {
  reason: 'bridge.dlq.reason',
  message: 'bridge.dlq.message',
  destination: 'bridge.dlq.destination',
  failureClass: 'bridge.dlq.class',
  attempts: 'bridge.dlq.attempts',
  firstFailureAt: 'bridge.dlq.first-failure-at',
  lastFailureAt: 'bridge.dlq.last-failure-at',
} as const;

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
  private readonly sinks: { [T in DeadLetterTarget['type']]: (letter: DeadLetter & { target: Extract<DeadLetterTarget, { type: T }> }, meta: Record<string, string>) => Promise<void> };

  constructor(kafka: KafkaWriter, mqtt: MqttPublish, private readonly retry: RetryPolicy) {
    this.sinks = {
      kafka: (letter, meta) =>
        kafka.write(
          { topic: letter.target.topic, key: letter.message.topic, value: letter.message.payload, headers: { ...replayHeaders(letter), ...meta }, rule: letter.rule },
          { acks: 'all', idempotent: true },
        ),
      mqtt: (letter, meta) =>
        mqtt(letter.target.topic, letter.message.payload, {
          qos: letter.target.qos,
          properties: {
            userProperties: { ...asUserProperties(replayHeaders(letter)), ...meta },
            contentType: letter.message.properties.contentType,
            correlationData: letter.message.properties.correlationData,
          },
        }),
    };
  }

  async write(letter: DeadLetter): Promise<void> {
    const meta = deadLetterMeta(letter);
    const sink = this.sinks[letter.target.type] as (l: DeadLetter, m: Record<string, string>) => Promise<void>;
    for (let attempt = 1; ; attempt++) {
      try {
        await sink(letter, meta);
        return;
      } catch (error) {
        if (this.closing || error instanceof ShutdownError) throw error;
        const failure = classify(error);
        const delay = nextDelay({ ...this.retry, maxAttempts: 0, maxElapsedMs: 0 }, attempt, 0);
        this.log.error({
          msg: 'dead-letter write failed; the message stays unacknowledged',
          rule: letter.rule,
          topic: letter.message.topic,
          target: `${letter.target.type}:${letter.target.topic}`,
          reason: failure.code,
          attempt,
          retryInMs: delay,
        });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
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
