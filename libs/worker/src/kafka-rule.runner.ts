import { Logger } from '@nestjs/common';
import { BridgeMessage, ShutdownError } from '@app/core';
import { KafkaClientFactory, KafkaConnectionConfig, KafkaInbound, KafkaRecordSource } from '@app/kafka';
import { MqttClientFactory, MqttDestination, MqttSourceConfig } from '@app/mqtt';
import { TemplateContext } from '@app/topic';
import { TransformProgram } from '@app/transform';
import { SchemaStage } from '@app/registry';
import { ReplayGuard, RuleOutcome, RuntimeRule } from '@app/pipeline';
import { DeadLetterTarget, KafkaRuleConfig } from '@app/bridge-config';
import { recordInput } from './kafka-record.input';
import { kafkaRuleDestination } from './kafka-rule.destination';

/** BridgePipeline.deliver: transform, destinations and dead letters of one message under one rule. */
export type RuleDeliver = (
  rule: RuntimeRule,
  message: BridgeMessage,
  context: TemplateContext,
  origin: Readonly<Record<string, string>>,
) => Promise<RuleOutcome>;

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
    extras: Pick<RuntimeRule, 'process' | 'replayGuard' | 'schemaDecoder' | 'schemaEncoder'> = {},
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
    const { message, context, origin } = recordInput(record, this.config, this.clientId);
    this.deliver(this.rule, message, context, origin).then(
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
    /** The rule's schema stage (process.schema). */
    schema?: SchemaStage;
    kafkaFactory: KafkaClientFactory;
    mqttFactory: MqttClientFactory;
    deliver: RuleDeliver;
    clientId: string;
  },
): KafkaRuleRunner {
  const destination = kafkaRuleDestination(config, shared.mqtt, shared.mqttFactory);
  const source = new KafkaRecordSource(shared.kafkaFactory, shared.kafka, config.kafka, config.name);
  return new KafkaRuleRunner(config, shared.deadLetter, source, destination, shared.deliver, shared.clientId, {
    process: shared.process,
    replayGuard: shared.replayGuard,
    ...shared.schema,
  });
}
