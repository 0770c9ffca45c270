import { Message, PartitionMetadata, Partitioners } from 'kafkajs';
import { PinnedPartitioner } from './pinned.partitioner';

const meta = (count: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));

describe('PinnedPartitioner', () => {
  it('gives a record the same partition on every attempt, whatever else was partitioned in between', () => {
    const pins = new PinnedPartitioner();
    const partition = pins.create();
    const keyless: Message = { value: 'a', key: null };
    pins.nextBatch();
    const first = partition({ topic: 't', partitionMetadata: meta(6), message: keyless });
    for (let attempt = 0; attempt < 20; attempt++) {
      pins.nextBatch();
      partition({ topic: 't', partitionMetadata: meta(6), message: { value: 'other', key: null } });
      expect(partition({ topic: 't', partitionMetadata: meta(6), message: keyless })).toBe(first);
    }
    expect(pins.partitionOf(keyless)).toBe(first);
  });

  it('puts keyed records where kafkajs’s default partitioner (the Java client’s) does, past its hash cache too', () => {
    const pins = new PinnedPartitioner();
    const partition = pins.create();
    const kafkajs = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 10_200; i += i < 200 ? 1 : 97) {
      for (const key of [`site/${i}/temp`, Buffer.from(`raw-${i}`), `zürich/${i}`]) {
        for (const count of [1, 3, 7]) {
          const message: Message = { value: 'v', key };
          const expected = kafkajs({ topic: 't', partitionMetadata: meta(count), message: { value: 'v', key } });
          expect(partition({ topic: 't', partitionMetadata: meta(count), message })).toBe(expected);
        }
      }
    }
    // Over the cache's 10,000 distinct keys it starts again, and still hashes the same.
    for (let i = 0; i < 10_050; i++) partition({ topic: 't', partitionMetadata: meta(3), message: { value: 'v', key: `k${i}` } });
    expect(partition({ topic: 't', partitionMetadata: meta(5), message: { value: 'v', key: 'k3' } })).toBe(
      kafkajs({ topic: 't', partitionMetadata: meta(5), message: { value: 'v', key: 'k3' } }),
    );
  });

  it('keeps a keyed record where it was hashed even when the partition count grows before the retry', () => {
    const pins = new PinnedPartitioner();
    const partition = pins.create();
    const keyed: Message = { value: 'v', key: 'device-17' };
    const murmur = Partitioners.DefaultPartitioner()({ topic: 't', partitionMetadata: meta(3), message: keyed });
    expect(partition({ topic: 't', partitionMetadata: meta(3), message: keyed })).toBe(murmur);
    expect(partition({ topic: 't', partitionMetadata: meta(12), message: keyed })).toBe(murmur);
  });

  it('sends the keyless records of one batch to one partition, and rotates between batches', () => {
    const pins = new PinnedPartitioner();
    const partition = pins.create();
    const batch = () => {
      pins.nextBatch();
      return new Set(Array.from({ length: 5 }, (_, i) => partition({ topic: 't', partitionMetadata: meta(3), message: { value: String(i), key: null } })));
    };
    const chosen = [batch(), batch(), batch()];
    expect(chosen.map((s) => s.size)).toEqual([1, 1, 1]);
    expect(new Set(chosen.map((s) => [...s][0])).size).toBe(3);
  });

  it('honours an explicit partition and avoids partitions without a leader for keyless records', () => {
    const pins = new PinnedPartitioner();
    const partition = pins.create();
    expect(partition({ topic: 't', partitionMetadata: meta(3), message: { value: 'v', key: 'k', partition: 2 } })).toBe(2);
    for (let i = 0; i < 10; i++) {
      pins.nextBatch();
      expect(partition({ topic: 't', partitionMetadata: meta(3, [0, 2]), message: { value: String(i), key: null } })).toBe(1);
    }
  });

  it('draws again for a pin the topic no longer has (deleted and recreated with fewer partitions)', () => {
    const pins = new PinnedPartitioner();
    const partition = pins.create();
    const record: Message = { value: 'v', key: null };
    pins.nextBatch();
    expect(partition({ topic: 't', partitionMetadata: meta(6, [0, 1, 2, 3, 5]), message: record })).toBe(4);
    const redrawn = partition({ topic: 't', partitionMetadata: meta(2), message: record });
    expect(redrawn).toBeLessThan(2);
    expect(pins.partitionOf(record)).toBe(redrawn);
  });
});
