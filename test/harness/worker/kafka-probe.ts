import * as net from 'node:net';
import { ISocketFactory, KafkaConfig, Kafka, ProducerBatch } from 'kafkajs';
import { KafkaClientFactory } from '@app/kafka';

/** What the worker's producers sent, seen from outside the bridge (its code is not touched). */
export interface ProduceCounters {
  requests: number;
  records: number;
  maxRecords: number;
  failures: number;
  /** Failures by kafkajs error type (e.g. MESSAGE_TOO_LARGE). */
  failureTypes: Record<string, number>;
  /** Total time spent in sendBatch (request round trips, one in flight per lane). */
  busyMs: number;
}

/**
 * A KafkaClientFactory whose producers count their sendBatch calls: how many records per
 * produce request the bridge achieves, and which requests failed. Used by worker-process.ts.
 */
export class CountingKafkaClientFactory extends KafkaClientFactory {
  readonly counters: ProduceCounters = { requests: 0, records: 0, maxRecords: 0, failures: 0, failureTypes: {}, busyMs: 0 };

  /** `noDelay`: an experiment (BENCH_KAFKA_NODELAY=1) – kafkajs's own sockets leave Nagle's algorithm on. */
  constructor(private readonly noDelay = false) {
    super();
  }

  override createClient(config: KafkaConfig): Kafka {
    const kafka = super.createClient(this.noDelay && !config.ssl ? { ...config, socketFactory: noDelaySockets } : config);
    const counters = this.counters;
    const createProducer = kafka.producer.bind(kafka);
    kafka.producer = (options) => {
      const producer = createProducer(options);
      const sendBatch = producer.sendBatch.bind(producer);
      producer.sendBatch = async (batch: ProducerBatch) => {
        const records = (batch.topicMessages ?? []).reduce((n, t) => n + t.messages.length, 0);
        counters.requests++;
        counters.records += records;
        counters.maxRecords = Math.max(counters.maxRecords, records);
        const started = performance.now();
        try {
          return await sendBatch(batch);
        } catch (error) {
          counters.failures++;
          const type = failureType(error);
          counters.failureTypes[type] = (counters.failureTypes[type] ?? 0) + 1;
          throw error;
        } finally {
          counters.busyMs += performance.now() - started;
        }
      };
      return producer;
    };
    return kafka;
  }
}

function failureType(error: unknown): string {
  for (let e = error as { type?: unknown; cause?: unknown; name?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.type === 'string') return e.type;
  }
  return error instanceof Error ? error.name : 'unknown';
}

/** kafkajs's default socket factory (plain TCP) plus TCP_NODELAY. */
const noDelaySockets: ISocketFactory = ({ host, port, onConnect }) => {
  const socket = net.connect({ host, port, noDelay: true }, onConnect);
  socket.setKeepAlive(true, 60_000);
  return socket;
};
