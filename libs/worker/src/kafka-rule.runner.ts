import { Logger } from '@nestjs/common';
import { BridgeMessage, ShutdownError } from '@app/core';
import { ConsumedRecord, headerText, KafkaClientFactory, KafkaConnectionConfig, KafkaInbound, KafkaRecordSource, propertiesFromHeaders } from '@app/kafka';
import { MqttClientFactory, MqttConnectionConfig, MqttDestination, MqttSourceConfig } from '@app/mqtt';
import { RecordFields, TemplateContext } from '@app/topic';
import { TransformProgram } from '@app/transform';
import { ReplayGuard, RuleOutcome, RuntimeRule } from '@app/pipeline';
import { DeadLetterTarget, KafkaRuleConfig } from '@app/bridge-config';

/** BridgePipeline.deliver: transform, destinations and dead letters of one message under one rule. */
export type RuleDeliver = (
  rule: RuntimeRule,
  message: BridgeMessage,
  context: TemplateContext,
  origin: Readonly<Record<string, string>>,
) => Promise<RuleOutcome>;

/** Dead-letter fields that say which record failed; documented in docs/kafka-to-mqtt.md. */
export const KAFKA_ORIGIN = { topic: 'kafka.topic', partition: 'kafka.partition', offset: 'kafka.offset', key: 'kafka.key' } as const;

const EMPTY = Buffer.alloc(0);

/**
 * One Kafka -> MQTT rule: a consumer group member feeding the shared pipeline (transform, MQTT
 * destination, dead letters). A record counts as handled once the MQTT broker confirmed it
 * (PUBACK/PUBCOMP; at once for QoS 0) or its dead letter was confirmed; only then may its
 * offset be committed. Records the bridge stops before handling are read again by the group.
 */
export class KafkaRuleRunner {
  private readonly log = new Logger(KafkaRuleRunner.name);
  readonly rule: RuntimeRule;

  constructor(
    private readonly config: KafkaRuleConfig,
    deadLetter: DeadLetterTarget,
    private readonly source: KafkaRecordSource,
    private readonly destination: MqttDestination,
    private readonly deliver: RuleDeliver,
    private readonly clientId: string,
    extras: Pick<RuntimeRule, 'process' | 'replayGuard'> = {},
  ) {
    this.rule = { name: config.name, destinations: [destination], deadLetter: config.deadLetter ?? deadLetter, transform: config.transform, ...extras };
  }

  get name(): string {
    return this.config.name;
  }

  /** Records taken from Kafka and not yet handled. */
  get inFlight(): number {
    return this.source.inFlight;
  }

  /** In its consumer group and connected to its MQTT broker. */
  get ready(): boolean {
    return this.source.ready && this.destination.connected;
  }

  async start(): Promise<void> {
    await this.destination.connect();
    await this.source.connect((inbound) => this.handle(inbound));
    const { topics, topicPattern, groupId } = this.config.kafka;
    this.log.log(`rule ${this.name}: Kafka ${topics?.join(', ') ?? `/${topicPattern}/`} (group ${groupId}) -> MQTT ${this.config.mqtt.topic}`);
  }

  /**
   * Stops taking records, gives those in flight `drainMs` to be confirmed, then abandons the
   * rest (their offsets stay uncommitted), commits and leaves the group.
   */
  async stop(drainMs: number): Promise<void> {
    this.source.stopIntake();
    await this.source.drain(drainMs);
    await this.destination.close();
    // Aborted publishes release their records at once; dead-letter writes still retrying do not hold the stop.
    await this.source.drain(500);
    await this.source.close();
  }

  private handle(inbound: KafkaInbound): void {
    const { record } = inbound;
    const message = recordMessage(record, this.config.mqtt);
    const context: TemplateContext = {
      topic: record.topic,
      levels: [record.topic],
      captures: {},
      qos: message.qos,
      rule: this.name,
      clientId: this.clientId,
      record: recordFields(record),
    };
    this.deliver(this.rule, message, context, origin(record)).then(
      () => inbound.ack(),
      (error: unknown) => {
        inbound.release();
        if (!(error instanceof ShutdownError)) this.log.error({ msg: 'record left uncommitted', rule: this.name, topic: record.topic, detail: String(error) });
      },
    );
  }
}

/** Builds a rule's runner: its consumer, and its MQTT destination (by default on the source broker, over its own connection). */
export function createKafkaRuleRunner(
  config: KafkaRuleConfig,
  shared: {
    kafka: KafkaConnectionConfig;
    mqtt: MqttSourceConfig;
    deadLetter: DeadLetterTarget;
    /** The rule's process section, compiled at validation. */
    process?: TransformProgram;
    replayGuard?: ReplayGuard;
    kafkaFactory: KafkaClientFactory;
    mqttFactory: MqttClientFactory;
    deliver: RuleDeliver;
    clientId: string;
  },
): KafkaRuleRunner {
  const { mqtt } = config;
  // The source's own client id would take over its session: the rule's connection gets a random one.
  const { session: _session, maxInFlight: _maxInFlight, status: _status, clientId: _clientId, ...sourceBroker } = shared.mqtt;
  const broker: MqttConnectionConfig = mqtt.broker ?? sourceBroker;
  const destination = new MqttDestination(
    `${config.name}/mqtt`,
    {
      type: 'mqtt',
      broker,
      topic: mqtt.topic,
      qos: { qos0: 0, qos1: 1, qos2: 2 },
      retain: 'keep',
      messageExpirySeconds: mqtt.messageExpirySeconds,
      retry: mqtt.retry,
    },
    shared.mqttFactory,
    [],
    'kafka-record',
  );
  const source = new KafkaRecordSource(shared.kafkaFactory, shared.kafka, config.kafka, config.name);
  return new KafkaRuleRunner(config, shared.deadLetter, source, destination, shared.deliver, shared.clientId, {
    process: shared.process,
    replayGuard: shared.replayGuard,
  });
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

function origin(record: ConsumedRecord): Record<string, string> {
  const fields: Record<string, string> = {
    [KAFKA_ORIGIN.topic]: record.topic,
    [KAFKA_ORIGIN.partition]: String(record.partition),
    [KAFKA_ORIGIN.offset]: record.offset,
  };
  if (record.key !== null) fields[KAFKA_ORIGIN.key] = record.key.toString('utf8');
  return fields;
}
