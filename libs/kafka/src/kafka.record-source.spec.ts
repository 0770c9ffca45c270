import { EventEmitter } from 'node:events';
import { waitFor } from '@app/core/testing/wait-for';
import { EachBatchPayload, Kafka } from 'kafkajs';
import { KafkaClientFactory } from './kafka.client-factory';
import { KafkaConnectionConfig } from './kafka.schema';
import { KafkaSourceConfig } from './kafka-source.schema';
import { KafkaInbound, KafkaRecordSource } from './kafka.record-source';

const EVENTS = { GROUP_JOIN: 'join', REBALANCING: 'rebalancing', CRASH: 'crash', DISCONNECT: 'disconnect', STOP: 'stop', COMMIT_OFFSETS: 'commit' };

/** Just enough of a kafkajs consumer: batches are pushed by the test, commits recorded. */
class FakeConsumer extends EventEmitter {
  readonly events = EVENTS;
  eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  commits: Array<{ topic: string; partition: number; offset: string }> = [];
  resolved: string[] = [];
  heartbeats = 0;
  running = true;
  disconnected = false;
  async connect(): Promise<void> {}
  async subscribe(): Promise<void> {}
  async run(options: { eachBatch: (payload: EachBatchPayload) => Promise<void> }): Promise<void> {
    this.eachBatch = options.eachBatch;
  }
  async commitOffsets(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void> {
    this.commits.push(...offsets);
    this.emit(EVENTS.COMMIT_OFFSETS, {
      payload: { topics: offsets.map((o) => ({ topic: o.topic, partitions: [{ partition: o.partition, offset: o.offset }] })) },
    });
  }
  async disconnect(): Promise<void> {
    this.running = false;
    this.disconnected = true;
  }
  join(): void {
    this.emit(EVENTS.GROUP_JOIN, { payload: { memberAssignment: { cmd: [0] } } });
  }
  batch(partition: number, offsets: number[]): Promise<void> {
    return this.eachBatch!({
      batch: {
        topic: 'cmd',
        partition,
        messages: offsets.map((o) => ({ offset: String(o), key: Buffer.from(`k${o}`), value: Buffer.from(`v${o}`), headers: {} })),
      },
      resolveOffset: (offset: string) => this.resolved.push(offset),
      heartbeat: async () => void this.heartbeats++,
      isRunning: () => this.running,
      isStale: () => false,
    } as unknown as EachBatchPayload);
  }
}

const connection = { brokers: ['127.0.0.1:1'], clientId: 't', connectionTimeoutMs: 100, requestTimeoutMs: 100 } as KafkaConnectionConfig;
const config = (overrides: Partial<KafkaSourceConfig> = {}): KafkaSourceConfig => ({
  groupId: 'g',
  topics: ['cmd'],
  startFrom: 'earliest',
  maxInFlight: 3,
  commitIntervalMs: 0,
  sessionTimeoutMs: 30_000,
  ...overrides,
});

async function started(overrides: Partial<KafkaSourceConfig> = {}): Promise<{ source: KafkaRecordSource; consumer: FakeConsumer; taken: KafkaInbound[] }> {
  const consumer = new FakeConsumer();
  const factory = { createClient: () => ({ consumer: () => consumer }) as unknown as Kafka } as KafkaClientFactory;
  const source = new KafkaRecordSource(factory, connection, config(overrides), 'r');
  const taken: KafkaInbound[] = [];
  await source.connect((inbound) => taken.push(inbound));
  consumer.join();
  return { source, consumer, taken };
}

/** For checks that something did NOT happen: give the source's microtasks and timers a moment. */
const settle = () => new Promise((r) => setTimeout(r, 5));

describe('KafkaRecordSource', () => {
  it('commits a partition only past records confirmed with every earlier one', async () => {
    const { consumer, taken, source } = await started();
    await consumer.batch(0, [0, 1, 2]);
    expect(taken.map((t) => t.record.key?.toString())).toEqual(['k0', 'k1', 'k2']);
    taken[2].ack();
    taken[1].ack();
    await settle();
    expect(consumer.commits).toEqual([]);
    taken[0].ack();
    await waitFor(() => consumer.commits.length > 0, 5_000, 'the commit');
    expect(consumer.commits).toEqual([{ topic: 'cmd', partition: 0, offset: '3' }]);
    expect(source.inFlight).toBe(0);
    expect(source.commits).toBe(1);
  });

  it('holds intake at maxInFlight, heartbeating, and never commits a released record', async () => {
    const { consumer, taken, source } = await started({ maxInFlight: 2 });
    const batch = consumer.batch(0, [0, 1, 2]);
    await waitFor(() => taken.length === 2, 5_000, 'two records taken');
    await settle();
    expect(taken).toHaveLength(2);
    taken[0].release();
    await waitFor(() => taken.length === 3, 5_000, 'the third record once one is released');
    await batch;
    taken[1].ack();
    taken[2].ack();
    await settle();
    expect(consumer.commits).toEqual([]);
    expect(consumer.heartbeats).toBeGreaterThan(0);
    expect(source.inFlight).toBe(0);
  });

  it('stops taking records on stop, commits what is confirmed, and leaves the group', async () => {
    const { consumer, taken, source } = await started({ maxInFlight: 1, commitIntervalMs: 60_000 });
    const batch = consumer.batch(0, [5, 6]);
    await waitFor(() => taken.length === 1, 5_000, 'the first record');
    taken[0].ack();
    source.stopIntake();
    await batch;
    expect(taken).toHaveLength(1);
    expect(consumer.resolved).toEqual(['5']);
    await source.close();
    expect(consumer.commits).toEqual([{ topic: 'cmd', partition: 0, offset: '6' }]);
    expect(consumer.disconnected).toBe(true);
    expect(source.ready).toBe(false);
  });

  it('forgets confirmations of records read before a rebalance', async () => {
    const { consumer, taken } = await started();
    await consumer.batch(0, [0]);
    consumer.join();
    await consumer.batch(0, [0, 1]);
    taken[0].ack();
    await settle();
    expect(consumer.commits).toEqual([]);
    taken[1].ack();
    taken[2].ack();
    await waitFor(() => consumer.commits.length > 0, 5_000, 'the commit');
    expect(consumer.commits).toEqual([{ topic: 'cmd', partition: 0, offset: '2' }]);
  });
});
