import { IHeaders } from 'kafkajs';
import { Destination, DestinationPreview, DestinationRejectedError, OutboundRecord, PreviewHeaderValue, ShutdownError } from '@app/core';
import { CompiledTemplate, compileTemplate } from '@app/topic';
import { mqttHeaders } from './kafka-headers';
import { kafkaTopicNameProblem } from './kafka-topic-name';
import { DeliveryConfig, KafkaDestinationConfig } from './kafka.schema';
import { KafkaWriter } from './kafka.writer';

/** A rule's Kafka destination: renders topic, key and headers, then writes through the shared KafkaWriter. */
export class KafkaDestination implements Destination {
  private readonly topic: CompiledTemplate;
  private readonly key?: CompiledTemplate;
  private readonly headers: ReadonlyArray<readonly [string, CompiledTemplate]>;
  /** Delivery settings indexed by MQTT QoS. */
  private readonly delivery: readonly DeliveryConfig[];
  private closed = false;

  constructor(
    readonly name: string,
    private readonly config: KafkaDestinationConfig,
    private readonly writer: KafkaWriter,
    captures: readonly string[],
  ) {
    this.topic = compileTemplate(config.topic, captures);
    this.key = config.key === '' ? undefined : compileTemplate(config.key, captures);
    this.headers = Object.entries(config.headers).map(([name, value]) => [name, compileTemplate(value, captures)] as const);
    this.delivery = [config.delivery.qos0, config.delivery.qos1, config.delivery.qos2];
  }

  async connect(): Promise<void> {
    // The writer is shared by every Kafka destination and connected by its owner.
  }

  /** Whether the last contact with the cluster (a probe or a produce request) succeeded. */
  get up(): boolean {
    return this.writer.reachable;
  }

  // Not async: returning the writer's promise from an async function costs every record two more microtask turns.
  write(record: OutboundRecord): Promise<void> {
    if (this.closed) return Promise.reject(new ShutdownError(`Kafka destination ${this.name} is closed`));
    try {
      const { topic, key, headers } = this.outgoing(record);
      const delivery = this.delivery[record.message.qos];
      return this.writer.write({ topic, key, value: record.payload(topic), partition: this.config.partition, headers, rule: record.rule }, delivery);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  describe(record: OutboundRecord): DestinationPreview {
    const { topic, key, headers } = this.outgoing(record);
    const summary = `kafka topic ${topic}${key === null ? '' : ` key ${key}`}${this.config.partition === undefined ? '' : ` partition ${this.config.partition}`}`;
    return { summary, address: topic, key, headers: previewHeaders(headers) };
  }

  /** Topic, key and headers of the record, for `write` and `describe` alike. */
  private outgoing(record: OutboundRecord): { topic: string; key: string | null; headers: IHeaders } {
    const topic = this.topic.render(record.context);
    if (kafkaTopicNameProblem(topic) !== null) {
      throw new DestinationRejectedError(
        `Kafka topic ${this.topic.show(topic)} is not a valid topic name (letters, digits, '.', '_', '-'; at most 249)`,
        'invalid-topic',
      );
    }
    const headers = mqttHeaders(record.message, record.rule, this.config.mqttHeaders);
    for (const name in record.headers) headers[name] = record.headers[name];
    for (const [name, template] of this.headers) headers[name] = template.render(record.context);
    return { topic, key: this.key ? this.key.render(record.context) : null, headers };
  }

  /** Refuses further writes. Writes already handed to the shared writer end with it (its owner closes it). */
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** kafkajs headers without their absent values. */
function previewHeaders(headers: IHeaders): Record<string, PreviewHeaderValue> {
  const out: Record<string, PreviewHeaderValue> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
}
