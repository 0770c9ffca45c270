import { randomInt } from 'node:crypto';
import { PartitionerArgs } from 'kafkajs';
import { keyPartition, murmur2 } from './murmur2';

/** Where a record's partition is kept on the record itself: a WeakMap entry per record slowed every scavenge. */
const PIN = Symbol('kafka partition');
type Pinned = { [PIN]?: number };

/** Distinct string keys whose hashes are kept: keys repeat (the MQTT topic by default), hashing them does not. */
const HASHES_KEPT = 10_000;

/**
 * Chooses a record's partition once and keeps it through every retry.
 *
 * kafkajs asks its partitioner again on every attempt of a produce request, and the idempotent
 * producer rolls its sequence numbers back when a request fails. A record drawn to another
 * partition on the retry is then written twice (once per partition), or the broker takes it for a
 * batch it already has and drops it, or refuses the lane for ever (out of order sequence). With the
 * partition pinned, a resent batch is the same batch, which the broker recognises as a duplicate.
 *
 * Keyed records go where the Java client puts them (murmur2); records without a key stick to one
 * partition per topic for a whole batch (`nextBatch()`), rotating between batches.
 */
export class PinnedPartitioner {
  private readonly hashes = new Map<string, number>();
  private readonly sticky = new Map<string, { batch: number; partition: number; counter: number }>();
  private batch = 0;

  /** kafkajs's `createPartitioner` option: every producer of one writer shares the pins. */
  readonly create = () => (args: PartitionerArgs) => this.partition(args);

  /** Records without a key that are seen for the first time from now on go to a new sticky partition. */
  nextBatch(): void {
    this.batch++;
  }

  /** The partition a record was pinned to, if kafkajs asked for it already. */
  partitionOf(record: object): number | undefined {
    return (record as Pinned)[PIN];
  }

  private partition(args: PartitionerArgs): number {
    const { message, topic, partitionMetadata } = args;
    const pinned = message as Pinned;
    const known = pinned[PIN];
    // A pin outside the topic's partitions (topic deleted and recreated smaller) was never written.
    if (known !== undefined && partitionMetadata.some((p) => p.partitionId === known)) return known;
    const key = message.key;
    const chosen =
      message.partition ??
      (key !== null && key !== undefined ? keyPartition(this.hash(key), partitionMetadata.length) : this.stickyFor(topic, partitionMetadata));
    pinned[PIN] = chosen;
    return chosen;
  }

  private hash(key: Buffer | string): number {
    if (typeof key !== 'string') return murmur2(key);
    let hash = this.hashes.get(key);
    if (hash === undefined) {
      if (this.hashes.size >= HASHES_KEPT) this.hashes.clear();
      hash = murmur2(Buffer.from(key));
      this.hashes.set(key, hash);
    }
    return hash;
  }

  private stickyFor(topic: string, partitions: PartitionerArgs['partitionMetadata']): number {
    let state = this.sticky.get(topic);
    if (state && state.batch === this.batch && partitions.some((p) => p.partitionId === state!.partition)) return state.partition;
    state ??= { batch: this.batch, partition: 0, counter: randomInt(0x7fffffff) };
    const available = partitions.filter((p) => p.leader >= 0);
    const from = available.length > 0 ? available : partitions;
    state.counter = (state.counter + 1) & 0x7fffffff;
    state.partition = from[state.counter % from.length].partitionId;
    state.batch = this.batch;
    this.sticky.set(topic, state);
    return state.partition;
  }
}
