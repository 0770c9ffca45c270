import { randomBytes } from 'node:crypto';
import { Admin, Consumer } from 'kafkajs';
import { quietKafka } from '../../harness/kafka.broker';
import { withTimeout } from './scope';

/** One record as the analysis needs it. */
export interface CollectedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  /** The payload as a sequence number; NaN when it is not one. */
  readonly seq: number;
}

/**
 * Reads topics from the beginning with a fresh consumer group and keeps every record, once per
 * (topic, partition, offset): a consumer that restarts and re-reads uncommitted records does not
 * make duplicates appear. `caughtUp()` compares what was read with the partitions' high
 * watermarks, so the analysis sees everything Kafka holds, duplicates included.
 */
export class KafkaCollector {
  private readonly records = new Map<string, Map<string, CollectedRecord>>();
  /** Next offset to read, per topic and partition. */
  private readonly positions = new Map<string, Map<number, number>>();
  private crashed?: string;

  private constructor(
    private readonly consumer: Consumer,
    private readonly admin: Admin,
    readonly topics: readonly string[],
  ) {
    for (const topic of topics) {
      this.records.set(topic, new Map());
      this.positions.set(topic, new Map());
    }
  }

  static async start(brokers: string[], topics: readonly string[], timeoutMs = 30_000): Promise<KafkaCollector> {
    const kafka = quietKafka(brokers, { requestTimeout: 10_000, retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2_000 } });
    const consumer = kafka.consumer({
      groupId: `faults-collector-${randomBytes(6).toString('hex')}`,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
      retry: { retries: 10 },
    });
    const admin = kafka.admin();
    const collector = new KafkaCollector(consumer, admin, topics);
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) collector.crashed = event.payload.error.message;
    });
    try {
      await withTimeout(
        (async () => {
          await admin.connect();
          await consumer.connect();
          for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
          await consumer.run({
            eachBatch: async ({ batch }) => {
              for (const m of batch.messages) collector.add(batch.topic, batch.partition, m.offset, m.key, m.value);
            },
          });
        })(),
        timeoutMs,
        `starting the Kafka collector on ${topics.join(', ')}`,
      );
    } catch (error) {
      await collector.stop();
      throw error;
    }
    return collector;
  }

  /** Records read so far from `topic`, in no particular order. */
  recordsOf(topic: string): CollectedRecord[] {
    return [...(this.records.get(topic)?.values() ?? [])];
  }

  /** Distinct sequence numbers read so far from `topic`. */
  seqsOf(topic: string): Set<number> {
    const set = new Set<number>();
    for (const r of this.records.get(topic)?.values() ?? []) if (Number.isInteger(r.seq)) set.add(r.seq);
    return set;
  }

  /** True once every partition of every topic has been read up to its current high watermark. */
  async caughtUp(): Promise<boolean> {
    if (this.crashed) throw new Error(`Kafka collector crashed: ${this.crashed}`);
    for (const topic of this.topics) {
      const offsets = await withTimeout(this.admin.fetchTopicOffsets(topic), 10_000, `offsets of ${topic}`);
      const read = this.positions.get(topic)!;
      for (const p of offsets) {
        const high = Number(p.high);
        if (high > Number(p.low) && (read.get(p.partition) ?? 0) < high) return false;
      }
    }
    return true;
  }

  /** Records Kafka holds for `topic` (sum of high minus low watermarks). */
  async heldBy(topic: string): Promise<number> {
    const offsets = await withTimeout(this.admin.fetchTopicOffsets(topic), 10_000, `offsets of ${topic}`);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  }

  async stop(): Promise<void> {
    await withTimeout(this.consumer.disconnect(), 15_000, 'collector consumer disconnect').catch(() => undefined);
    await withTimeout(this.admin.disconnect(), 5_000, 'collector admin disconnect').catch(() => undefined);
  }

  private add(topic: string, partition: number, offset: string, key: Buffer | null, value: Buffer | null): void {
    const id = `${partition}:${offset}`;
    const byId = this.records.get(topic)!;
    const text = value?.toString() ?? '';
    const seq = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!byId.has(id)) byId.set(id, { partition, offset: Number(offset), key: key?.toString() ?? '', seq });
    const positions = this.positions.get(topic)!;
    positions.set(partition, Math.max(positions.get(partition) ?? 0, Number(offset) + 1));
  }
}
