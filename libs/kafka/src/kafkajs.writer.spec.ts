import { Kafka, KafkaJSProtocolError, Message, PartitionMetadata, ProducerBatch, ProducerConfig } from 'kafkajs';
import { KafkaClientFactory } from './kafka.client-factory';
import { kafkaConnectionSchema } from './kafka.schema';
import { KafkajsWriter } from './kafkajs.writer';

const partitions = (count: number): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));

/** Built as kafkajs builds it from a response's error code. */
const protocolError = (type: string, retriable: boolean) => new KafkaJSProtocolError(Object.assign(new Error(type), { type, retriable }));

interface Request {
  readonly producer: number;
  /** `topic/partition` -> the values sent there, in order. */
  readonly batches: Record<string, string[]>;
}

/**
 * A kafkajs stand-in that partitions like kafkajs does (asking the partitioner on every attempt)
 * and answers each request with the next scripted outcome.
 */
function fakeKafka(outcomes: Array<(request: Request) => Error | undefined>) {
  const requests: Request[] = [];
  let producers = 0;
  const kafka = {
    producer(config: ProducerConfig) {
      const id = ++producers;
      const partition = config.createPartitioner!();
      return {
        events: { DISCONNECT: 'producer.disconnect' },
        on: () => () => undefined,
        connect: async () => undefined,
        disconnect: async () => undefined,
        async sendBatch(batch: ProducerBatch) {
          const batches: Record<string, string[]> = {};
          for (const { topic, messages } of batch.topicMessages!) {
            for (const message of messages as Message[]) {
              const p = partition({ topic, partitionMetadata: partitions(3), message });
              (batches[`${topic}/${p}`] ??= []).push(String(message.value));
            }
          }
          const request = { producer: id, batches };
          requests.push(request);
          const error = outcomes.shift()?.(request);
          if (error) throw error;
          return [];
        },
      };
    },
  } as unknown as Kafka;
  const factory = { createClient: () => kafka } as KafkaClientFactory;
  return { factory, requests };
}

const config = kafkaConnectionSchema.parse({ brokers: ['k:9092'], producer: { retry: { initialMs: 1, maxMs: 2 } } });
const idempotent = { acks: 'all', idempotent: true } as const;
const keyless = (value: string, topic = 't') => ({ topic, key: null, value: Buffer.from(value), headers: {} });

describe('KafkajsWriter', () => {
  it('resends a retried batch of keyless records to the partitions of the first attempt', async () => {
    const { factory, requests } = fakeKafka([() => protocolError('REQUEST_TIMED_OUT', true), () => protocolError('NOT_LEADER_FOR_PARTITION', true)]);
    const writer = new KafkajsWriter(factory, config);
    await Promise.all(['a', 'b', 'c', 'd'].map((v) => writer.write(keyless(v), idempotent)));
    expect(requests).toHaveLength(3);
    expect(requests[1].batches).toEqual(requests[0].batches);
    expect(requests[2].batches).toEqual(requests[0].batches);
    // Sticky: one batch of keyless records goes to one partition.
    expect(Object.values(requests[0].batches)).toEqual([['a', 'b', 'c', 'd']]);
    await writer.close();
  });

  it('splits a refused batch by partition first, so each written partition gets exactly its batch again', async () => {
    const { factory, requests } = fakeKafka([
      // The broker wrote t's partition and refused the record of `tight`: the whole request fails.
      () => protocolError('MESSAGE_TOO_LARGE', false),
      () => undefined,
      () => protocolError('MESSAGE_TOO_LARGE', false),
    ]);
    const writer = new KafkajsWriter(factory, config);
    const results = await Promise.allSettled([
      writer.write(keyless('a'), idempotent),
      writer.write(keyless('big', 'tight'), idempotent),
      writer.write(keyless('b'), idempotent),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'record-too-large', retriable: false });
    const [first, resendOfT, alone] = requests.map((r) => r.batches);
    const tPartition = Object.keys(first).find((k) => k.startsWith('t/'))!;
    expect(resendOfT).toEqual({ [tPartition]: ['a', 'b'] });
    expect(Object.values(alone)).toEqual([['big']]);
    await writer.close();
  });

  it('replaces the idempotent producer when the broker no longer accepts its sequence numbers, and resends the same batch', async () => {
    const { factory, requests } = fakeKafka([
      () => protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER', true),
      () => protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER', true),
    ]);
    const writer = new KafkajsWriter(factory, config);
    await Promise.all(['a', 'b'].map((v) => writer.write({ ...keyless(v), key: v }, idempotent)));
    expect(requests.map((r) => r.producer)).toEqual([1, 2, 3]);
    expect(requests[2].batches).toEqual(requests[0].batches);
    await writer.close();
  });

  it('keeps the producer of a lane through ordinary retriable failures', async () => {
    const { factory, requests } = fakeKafka([() => protocolError('REQUEST_TIMED_OUT', true)]);
    const writer = new KafkajsWriter(factory, config);
    await writer.write(keyless('a'), idempotent);
    expect(requests.map((r) => r.producer)).toEqual([1, 1]);
    await writer.close();
  });
});
