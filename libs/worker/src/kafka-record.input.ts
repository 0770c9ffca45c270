import { BridgeMessage } from '@app/core';
import { ConsumedRecord, headerText, propertiesFromHeaders } from '@app/kafka';
import { RecordFields, TemplateContext } from '@app/topic';
import { KafkaRuleConfig } from '@app/bridge-config';

/** Dead-letter fields that say which record failed; documented in docs/kafka-to-mqtt.md. */
export const KAFKA_ORIGIN = { topic: 'kafka.topic', partition: 'kafka.partition', offset: 'kafka.offset', key: 'kafka.key' } as const;

const EMPTY = Buffer.alloc(0);

/** What the pipeline gets for one record under one Kafka -> MQTT rule. */
export interface RecordInput {
  readonly message: BridgeMessage;
  readonly context: TemplateContext;
  /** Dead-letter fields naming the record (KAFKA_ORIGIN). */
  readonly origin: Readonly<Record<string, string>>;
}

/**
 * The message, template context and dead-letter origin of a record under a rule: what delivery
 * (KafkaRuleRunner) and `bridge test` both hand the pipeline, so a test sees the rule as it runs.
 */
export function recordInput(record: ConsumedRecord, rule: KafkaRuleConfig, clientId: string): RecordInput {
  const message = recordMessage(record, rule.mqtt);
  const context: TemplateContext = {
    topic: record.topic,
    levels: [record.topic],
    captures: {},
    qos: message.qos,
    rule: rule.name,
    clientId,
    record: recordFields(record),
  };
  return { message, context, origin: recordOrigin(record) };
}

/** The message a record becomes: its value as payload, the rule's QoS and retain flag, MQTT 5 properties from `mqtt.*` headers. */
export function recordMessage(record: ConsumedRecord, mqtt: KafkaRuleConfig['mqtt']): BridgeMessage {
  return {
    topic: record.topic,
    // A tombstone publishes an empty payload: with retain, that clears the retained message.
    payload: record.value ?? EMPTY,
    qos: mqtt.qos,
    retain: mqtt.retain,
    properties: propertiesFromHeaders(record.headers),
    receivedAt: performance.now(),
  };
}

/** What topic templates read from a record; the value is parsed as JSON at most once, when asked. */
export function recordFields(record: ConsumedRecord): RecordFields {
  const headers: Record<string, string> = {};
  for (const name of Object.keys(record.headers)) {
    const text = headerText(record.headers, name);
    if (text !== undefined) headers[name] = text;
  }
  let parsed: { json: unknown } | undefined;
  return {
    kafkaTopic: record.topic,
    partition: record.partition,
    key: record.key === null ? null : record.key.toString('utf8'),
    headers,
    json() {
      if (!parsed) {
        try {
          parsed = { json: JSON.parse((record.value ?? EMPTY).toString('utf8')) };
        } catch {
          parsed = { json: undefined };
        }
      }
      return parsed.json;
    },
  };
}

function recordOrigin(record: ConsumedRecord): Record<string, string> {
  const fields: Record<string, string> = {
    [KAFKA_ORIGIN.topic]: record.topic,
    [KAFKA_ORIGIN.partition]: String(record.partition),
    [KAFKA_ORIGIN.offset]: record.offset,
  };
  if (record.key !== null) fields[KAFKA_ORIGIN.key] = record.key.toString('utf8');
  return fields;
}
