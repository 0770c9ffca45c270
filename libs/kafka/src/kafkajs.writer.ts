import { Logger } from '@nestjs/common';
import { CompressionTypes, Kafka, Producer, TopicMessages } from 'kafkajs';
import { ShutdownError } from '@app/core';
import { kafkaClientConfig, KafkaClientFactory } from './kafka.client-factory';
import { breaksProducerState, toBridgeError } from './kafka.errors';
import { DeliveryConfig, KafkaConnectionConfig } from './kafka.schema';
import { PinnedPartitioner } from './pinned.partitioner';
import { ClusterProbe } from './cluster.probe';
import { KafkaRecord, KafkaWriter, RetryListener } from './kafka.writer';
import { KAFKAJS_ENCODED_VERSION, useProduceEncoding } from './kafkajs.produce-encoding';
import { oversize, recordSize } from './record-size';
import { SerialBatcher } from './serial-batcher';

interface Lane {
  /** Replaced when its idempotence state broke (see breaksProducerState). */
  producer: Producer;
  batcher: SerialBatcher<KafkaRecord>;
  connected: boolean;
}

/**
 * The KafkaWriter on kafkajs. Each distinct delivery setting (acks,
 * idempotence) gets its own producer and its own ordered batch lane, because kafkajs fixes
 * idempotence per producer. Within a lane records are confirmed in the order written.
 *
 * Each record's partition is chosen once (PinnedPartitioner), so a retried batch is byte for byte
 * the batch the broker may already have, and the idempotent producer's duplicate check holds. A
 * refused batch that spans partitions is first split by partition, for the same reason: the
 * partitions the broker did write get exactly their batch again.
 */
export class KafkajsWriter implements KafkaWriter {
  readonly client = 'kafkajs';
  private readonly log = new Logger(KafkajsWriter.name);
  private readonly kafka: Kafka;
  private readonly lanes = new Map<string, Lane>();
  private readonly partitioner = new PinnedPartitioner();
  private closed = false;
  private reachableNow = false;
  private readonly prober: ClusterProbe;

  constructor(
    factory: KafkaClientFactory,
    private readonly config: KafkaConnectionConfig,
    private readonly onRetry: RetryListener = () => undefined,
  ) {
    const bridgeEncoding = config.producer.encoding === 'bridge';
    if (useProduceEncoding(bridgeEncoding) !== bridgeEncoding) {
      this.log.warn(
        `kafkajs is not ${KAFKAJS_ENCODED_VERSION}: kafkajs encodes the produce requests (kafka.producer.encoding bridge needs ${KAFKAJS_ENCODED_VERSION})`,
      );
    }
    this.kafka = factory.createClient(kafkaClientConfig(config));
    this.prober = new ClusterProbe(this.kafka, config.brokers, (reachable) => (this.reachableNow = reachable));
  }

  /** Records queued or in flight, over all lanes. */
  get queued(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.batcher.queued;
    return n;
  }

  /** Whether the last contact with Kafka (a probe or a produce request) succeeded. */
  get reachable(): boolean {
    return this.reachableNow;
  }

  probe(maxAgeMs = 0): Promise<boolean> {
    return this.prober.probe(maxAgeMs);
  }

  /** Resolves when Kafka confirmed the record as `delivery` asks; rejects with a typed BridgeError. */
  write(record: KafkaRecord, delivery: DeliveryConfig): Promise<void> {
    if (this.closed) return Promise.reject(new ShutdownError('Kafka writer is closed'));
    const size = recordSize(record);
    const refused = oversize(size, this.config.producer.maxMessageBytes);
    if (refused) return Promise.reject(refused);
    return this.lane(delivery).batcher.push(record, size);
  }

  async close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.lanes.values()].map(async (lane) => {
        await lane.batcher.close(timeoutMs);
        await lane.producer.disconnect().catch(() => undefined);
      }),
    );
  }

  private lane(delivery: DeliveryConfig): Lane {
    const id = `${delivery.acks}/${delivery.idempotent}`;
    let lane = this.lanes.get(id);
    if (lane) return lane;
    const acks = delivery.acks === 'all' ? -1 : delivery.acks;
    const compression = this.config.producer.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    const created = { connected: false } as Lane;
    created.producer = this.producer(delivery, created);
    created.batcher = new SerialBatcher<KafkaRecord>(
      async (records) => {
        const producer = created.producer;
        try {
          if (!created.connected) {
            await producer.connect();
            created.connected = true;
          }
          this.partitioner.nextBatch();
          await producer.sendBatch({ topicMessages: byTopic(records), acks, compression });
          this.reachableNow = true;
        } catch (error) {
          if (delivery.idempotent && breaksProducerState(error)) this.replaceProducer(created, delivery, error);
          const typed = toBridgeError(error);
          if (typed.retriable) this.reachableNow = false;
          throw typed;
        }
      },
      {
        maxBatch: this.config.producer.maxBatchMessages,
        maxBatchBytes: this.config.producer.maxBatchBytes,
        retry: this.config.producer.retry,
        split: (records) => this.byPartition(records),
        onRetry: (error, attempt, delay, records) => {
          this.log.warn(`Kafka write of ${records.length} record(s) failed (attempt ${attempt}), retrying in ${delay} ms: ${(error as Error).message}`);
          this.onRetry(records as readonly KafkaRecord[]);
        },
      },
    );
    this.lanes.set(id, created);
    return created;
  }

  private producer(delivery: DeliveryConfig, lane: Lane): Producer {
    const producer = this.kafka.producer({
      idempotent: delivery.idempotent,
      // One request in flight per lane keeps per-partition order through retries.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
      createPartitioner: this.partitioner.create,
    });
    producer.on(producer.events.DISCONNECT, () => {
      if (lane.producer === producer) lane.connected = false;
    });
    return producer;
  }

  /**
   * A new producer id restarts every sequence at 0, so the batch can go through again. What the
   * old producer may have written of it is written again: at-least-once, never lost.
   */
  private replaceProducer(lane: Lane, delivery: DeliveryConfig, error: unknown): void {
    this.log.warn(`Kafka producer state no longer matches the broker's (${(error as Error).message}): replacing the producer`);
    const old = lane.producer;
    lane.connected = false;
    lane.producer = this.producer(delivery, lane);
    void old.disconnect().catch(() => undefined);
  }

  /**
   * Index groups of the records per partition they were sent to, for a refused batch. A produce
   * request is atomic per partition only: the broker may have written the other partitions'
   * batches, and only the same batch again is recognised as a duplicate. Records never given a
   * partition (refused before kafkajs partitioned them) form one group of their own.
   */
  private byPartition(records: readonly KafkaRecord[]): number[][] {
    const groups = new Map<string, number[]>();
    records.forEach((record, index) => {
      const id = `${record.topic}\u0000${this.partitioner.partitionOf(record) ?? ''}`;
      const group = groups.get(id);
      if (group) group.push(index);
      else groups.set(id, [index]);
    });
    return [...groups.values()];
  }
}

/**
 * Groups records per topic for `sendBatch`. The records themselves go in as kafkajs messages
 * (kafkajs reads key, value, partition and headers and ignores the rest), so a batch allocates no
 * copy per record; almost every batch has a single topic, which takes no map either.
 */
function byTopic(records: readonly KafkaRecord[]): TopicMessages[] {
  if (records.length === 0) return [];
  const first = records[0].topic;
  if (records.every((r) => r.topic === first)) return [{ topic: first, messages: records as KafkaRecord[] }];
  const topics = new Map<string, TopicMessages>();
  for (const r of records) {
    let entry = topics.get(r.topic);
    if (!entry) {
      entry = { topic: r.topic, messages: [] };
      topics.set(r.topic, entry);
    }
    entry.messages.push(r);
  }
  return [...topics.values()];
}
