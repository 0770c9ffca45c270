/** A Kafka partition's position to commit: the offset of the next record to read. */
export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

interface Entry {
  readonly offset: bigint;
  done: boolean;
}

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  entries: Entry[];
  head: number;
  /** Next offset to read once everything before it is confirmed; undefined until one is. */
  confirmed?: bigint;
  committed?: bigint;
}

/** A record's place in its partition's confirmation order. */
export interface OffsetTicket {
  readonly generation: number;
  readonly state: PartitionState;
  readonly entry: Entry;
}

/**
 * Which offsets may be committed when records are confirmed out of order: per partition, the
 * offset after the last record confirmed with every earlier one (at least once: a commit never
 * passes a record that is still in flight). `reset()` forgets everything after a rebalance:
 * the group then reads again from the committed offsets, and confirmations of records handed
 * out before no longer count.
 */
export class OffsetTracker {
  private partitions = new Map<string, PartitionState>();
  private generation = 0;
  private inFlightCount = 0;

  /** Records tracked and not confirmed yet, in the current generation. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Takes the next place in the partition; offsets must be tracked in increasing order. */
  track(topic: string, partition: number, offset: string): OffsetTicket {
    const key = `${partition}:${topic}`;
    let state = this.partitions.get(key);
    if (!state) {
      state = { topic, partition, entries: [], head: 0 };
      this.partitions.set(key, state);
    }
    const entry: Entry = { offset: BigInt(offset), done: false };
    state.entries.push(entry);
    this.inFlightCount++;
    return { generation: this.generation, state, entry };
  }

  /** The record is handled (delivered or dead-lettered). Confirming twice, or after a reset, does nothing. */
  confirm(ticket: OffsetTicket): void {
    if (ticket.generation !== this.generation || ticket.entry.done) return;
    ticket.entry.done = true;
    this.inFlightCount--;
    const state = ticket.state;
    while (state.head < state.entries.length && state.entries[state.head].done) {
      state.confirmed = state.entries[state.head].offset + 1n;
      state.head++;
    }
    // Compact now and then rather than shift() per record, which is O(n) on long queues.
    if (state.head > 1024 && state.head * 2 > state.entries.length) {
      state.entries = state.entries.slice(state.head);
      state.head = 0;
    }
  }

  /** Positions that moved since they were last marked committed. */
  uncommitted(): PartitionOffset[] {
    const out: PartitionOffset[] = [];
    for (const s of this.partitions.values()) {
      if (s.confirmed !== undefined && s.confirmed !== s.committed) out.push({ topic: s.topic, partition: s.partition, offset: s.confirmed.toString() });
    }
    return out;
  }

  /** Records that these positions are committed (ignored for partitions forgotten since). */
  markCommitted(offsets: readonly PartitionOffset[]): void {
    for (const o of offsets) {
      const state = this.partitions.get(`${o.partition}:${o.topic}`);
      if (state) state.committed = BigInt(o.offset);
    }
  }

  /** Forgets every partition: after a rebalance the group reads again from what was committed. */
  reset(): void {
    this.generation++;
    this.partitions = new Map();
    this.inFlightCount = 0;
  }
}
