import { randomInt } from 'node:crypto';
import { PartitionerArgs, Partitioners } from 'kafkajs';

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
  private readonly pinned = new WeakMap<object, number>();
  private readonly keyed = Partitioners.DefaultPartitioner();
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
    return this.pinned.get(record);
  }

  private partition(args: PartitionerArgs): number {
    const { message, topic, partitionMetadata } = args;
    const known = this.pinned.get(message);
    // A pin outside the topic's partitions (topic deleted and recreated smaller) was never written.
    if (known !== undefined && partitionMetadata.some((p) => p.partitionId === known)) return known;
    const chosen = message.partition ?? (message.key !== null && message.key !== undefined ? this.keyed(args) : this.stickyFor(topic, partitionMetadata));
    this.pinned.set(message, chosen);
    return chosen;
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
