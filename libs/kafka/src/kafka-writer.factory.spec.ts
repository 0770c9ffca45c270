import { Kafka } from 'kafkajs';
import { KafkaClientFactory } from './kafka.client-factory';
import { openKafkaWriter } from './kafka-writer.factory';
import { kafkaConnectionSchema } from './kafka.schema';
import { RdkafkaClientFactory } from './rdkafka.client-factory';

const kafkajs = { createClient: () => ({}) as Kafka } as KafkaClientFactory;
const rdkafka = (unavailable?: string) => ({ unavailable }) as RdkafkaClientFactory;
const config = (client: string) => kafkaConnectionSchema.parse({ brokers: ['k:9092'], producer: { client } });

describe('openKafkaWriter', () => {
  it.each([
    ['kafkajs', undefined, 'kafkajs'],
    ['kafkajs', 'did not load', 'kafkajs'],
    ['librdkafka', undefined, 'librdkafka'],
  ])('client %s, librdkafka unavailable: %s -> %s', (client, unavailable, chosen) => {
    expect(openKafkaWriter(config(client), { kafkajs, rdkafka: rdkafka(unavailable) }).client).toBe(chosen);
  });

  it('refuses to start when librdkafka is asked for and did not load, saying why and what to do', () => {
    expect(() => openKafkaWriter(config('librdkafka'), { kafkajs, rdkafka: rdkafka('@confluentinc/kafka-javascript did not load (x)') })).toThrow(
      /kafka.producer.client is librdkafka, but @confluentinc\/kafka-javascript did not load \(x\).*set kafka.producer.client: kafkajs/,
    );
  });
});
