/**
 * The ceiling bridge's Kafka side on librdkafka instead of kafkajs, for issue 19's item 2: the
 * native producer of `@confluentinc/kafka-javascript` (node-rdkafka's API), loaded from the path
 * in BENCH_RDKAFKA_MODULE because the project does not depend on it (its native build is not
 * part of `npm ci`). Each record is handed to `produce()` as it arrives; librdkafka batches
 * (linger.ms), encodes and sends off the JavaScript thread, and its delivery reports are counted
 * as the kafkajs side counts its requests. Same guarantees asked of Kafka: acks -1, idempotent,
 * Java's murmur2 partitioning of keys (as kafkajs's default partitioner).
 */
import { Message } from 'kafkajs';

/** What the ceiling counts on its Kafka side, whichever client. */
export interface CeilingCounters {
  requests: number;
  records: number;
  maxRecords: number;
  failures: number;
  dropped: number;
  busyMs: number;
}

/** node-rdkafka's Producer as far as the ceiling uses it. */
interface RdProducer {
  connect(options: object, callback: (error: Error | null) => void): void;
  setPollInterval(ms: number): void;
  produce(
    topic: string,
    partition: number | null,
    value: Buffer,
    key: string,
    timestamp: number,
    opaque: unknown,
    headers: Array<Record<string, string | Buffer>>,
  ): void;
  on(event: 'delivery-report', listener: (error: Error | null, report: unknown) => void): void;
  on(event: 'event.error', listener: (error: Error) => void): void;
  flush(timeoutMs: number, callback: (error: Error | null) => void): void;
  disconnect(callback: () => void): void;
}

export interface RdkafkaSink {
  write(topic: string, record: Message): void;
  close(): Promise<void>;
}

export async function rdkafkaSink(modulePath: string, brokers: string, counters: CeilingCounters): Promise<RdkafkaSink> {
  const { Producer } = require(modulePath) as { Producer: new (config: Record<string, unknown>) => RdProducer };
  const producer = new Producer({
    'metadata.broker.list': brokers,
    'client.id': 'bench-ceiling-rdkafka',
    'enable.idempotence': true,
    acks: -1,
    partitioner: 'murmur2_random',
    // librdkafka's default is 5 ms; BENCH_RDKAFKA_LINGER_MS tries others (larger batches, fewer requests for the broker).
    'linger.ms': Number(process.env.BENCH_RDKAFKA_LINGER_MS ?? 5),
    dr_cb: true,
  });
  await new Promise<void>((resolve, reject) => producer.connect({}, (error) => (error ? reject(error) : resolve())));
  producer.setPollInterval(5);
  producer.on('event.error', () => counters.failures++);
  producer.on('delivery-report', (error) => {
    counters.records++;
    if (error) {
      counters.failures++;
      counters.dropped++;
    }
  });
  return {
    write(topic, record) {
      const headers = Object.entries(record.headers ?? {}).map(([k, v]) => ({ [k]: v as string | Buffer }));
      try {
        producer.produce(topic, null, record.value as Buffer, String(record.key), Date.now(), undefined, headers);
      } catch {
        // Queue full: at-most-once, the message was acknowledged on receipt.
        counters.dropped++;
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        producer.flush(5_000, () => producer.disconnect(() => resolve()));
      }),
  };
}
