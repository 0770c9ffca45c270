import type { Producer } from 'kafkajs';
import { KafkaClientFactory, kafkaClientConfig, KafkaConnectionConfig } from '@app/kafka';
import type { AuditEvent, AuditSink } from './audit.log';

/** Produces each event to an audit topic, keyed by key name so one key's history stays ordered. */
export class KafkaAuditSink implements AuditSink {
  private producer?: Promise<Producer>;

  constructor(
    private readonly factory: KafkaClientFactory,
    private readonly connection: KafkaConnectionConfig,
    readonly topic: string,
  ) {}

  describe(): string {
    return `kafka topic ${this.topic}`;
  }

  async append(event: AuditEvent, line: string): Promise<void> {
    this.producer ??= this.connect();
    const producer = await this.producer;
    await producer.send({ topic: this.topic, acks: -1, messages: [{ key: event.key ?? null, value: line }] });
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await (await producer.catch(() => undefined))?.disconnect();
  }

  private async connect(): Promise<Producer> {
    const producer = this.factory.createClient(kafkaClientConfig(this.connection)).producer({ allowAutoTopicCreation: true });
    try {
      await producer.connect();
    } catch (error) {
      this.producer = undefined;
      throw error;
    }
    return producer;
  }
}
