import { KafkaClientFactory } from './kafka.client-factory';
import { KafkaConnectionConfig } from './kafka.schema';
import { KafkaWriter, RetryListener } from './kafka.writer';
import { KafkajsWriter } from './kafkajs.writer';
import { RdkafkaClientFactory } from './rdkafka.client-factory';
import { RdkafkaWriter } from './rdkafka.writer';

export interface KafkaWriterClients {
  readonly kafkajs: KafkaClientFactory;
  readonly rdkafka: RdkafkaClientFactory;
}

/** The writer `kafka.producer.client` asks for; librdkafka where its native module did not load is a start-up error. */
export function openKafkaWriter(config: KafkaConnectionConfig, clients: KafkaWriterClients, onRetry?: RetryListener): KafkaWriter {
  if (config.producer.client === 'kafkajs') return new KafkajsWriter(clients.kafkajs, config, onRetry);
  const unavailable = clients.rdkafka.unavailable;
  if (unavailable) {
    throw new Error(
      `kafka.producer.client is librdkafka, but ${unavailable}. Install it (docs/performance.md, "Kafka client") or set kafka.producer.client: kafkajs`,
    );
  }
  return new RdkafkaWriter(clients.rdkafka, clients.kafkajs, config, onRetry);
}
