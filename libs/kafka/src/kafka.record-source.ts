import { Logger } from '@nestjs/common';
import { Consumer, EachBatchPayload, IHeaders } from 'kafkajs';
import { kafkaClientConfig, KafkaClientFactory } from './kafka.client-factory';
import { KafkaConnectionConfig } from './kafka.schema';
import { KafkaSourceConfig } from './kafka-source.schema';
import { OffsetTracker, PartitionOffset } from './offset-tracker';

/** One record as the consumer read it. */
export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
}

/** A record handed to the bridge, with the two ways its handling can end. */
export interface KafkaInbound {
  readonly record: ConsumedRecord;
  /** Handled (delivered or dead-lettered): committed once every earlier record of its partition is. */
  ack(): void;
  /** Not handled (the bridge is stopping): its place is freed, its offset stays uncommitted and the group reads it again. */
  release(): void;
}

/** Bounds every wait on kafkajs during stop: a consumer that does not leave in time is abandoned. */
const DISCONNECT_TIMEOUT_MS = 10_000;
/** While intake waits for room, the group must still hear from this member. */
const HEARTBEAT_WHILE_WAITING_MS = 3_000;

/**
 * A consumer group member that hands records to the bridge without waiting for them, up to
 * `maxInFlight` at a time, and commits each partition's offset only past records the bridge
 * confirmed (at least once; see OffsetTracker). kafkajs's own commits are off. kafkajs has no
 * "partitions revoked" hook: confirmed offsets are committed within `commitIntervalMs` and once
 * more when a rebalance starts; after any rebalance the group reads again from the committed
 * offsets, so a record confirmed too late to be committed is delivered again (never lost).
 */
export class KafkaRecordSource {
  private readonly log = new Logger(KafkaRecordSource.name);
  private readonly consumer: Consumer;
  private readonly offsets = new OffsetTracker();
  private readonly roomWaiters = new Set<() => void>();
  private handler?: (inbound: KafkaInbound) => void;
  private outstanding = 0;
  private stopping = false;
  private joined = false;
  private commitTimer?: NodeJS.Timeout;
  private commitInFlight?: Promise<void>;
  private committedCount = 0;
  /** kafkajs restarts a crashed consumer every second or so while Kafka is away: log the first crash of an outage only. */
  private crashedSinceJoin = false;

  constructor(
    factory: KafkaClientFactory,
    connection: KafkaConnectionConfig,
    private readonly config: KafkaSourceConfig,
    private readonly name: string,
  ) {
    this.consumer = factory.createClient(kafkaClientConfig(connection)).consumer({
      groupId: config.groupId,
      sessionTimeout: config.sessionTimeoutMs,
      allowAutoTopicCreation: false,
      // Short fetch waits keep stop() quick: kafkajs waits for the fetch in flight.
      maxWaitTimeInMs: 500,
    });
    const { GROUP_JOIN, REBALANCING, CRASH, DISCONNECT, STOP, COMMIT_OFFSETS } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, ({ payload }) => {
      // Every partition, kept or new, is read again from its committed offset.
      this.offsets.reset();
      this.joined = true;
      this.crashedSinceJoin = false;
      this.log.log({ msg: 'joined consumer group', rule: this.name, groupId: config.groupId, assignment: payload.memberAssignment });
    });
    this.consumer.on(REBALANCING, () => {
      this.joined = false;
      // The broker still takes commits of the ending generation: save what is confirmed.
      void this.flushCommits();
    });
    this.consumer.on(CRASH, ({ payload }) => {
      this.joined = false;
      const entry = { msg: 'Kafka consumer crashed', rule: this.name, detail: payload.error.message, restart: payload.restart };
      if (this.crashedSinceJoin && payload.restart) this.log.debug(entry);
      else this.log.warn(entry);
      this.crashedSinceJoin = true;
    });
    this.consumer.on(DISCONNECT, () => (this.joined = false));
    this.consumer.on(STOP, () => (this.joined = false));
    this.consumer.on(COMMIT_OFFSETS, ({ payload }) => {
      const done: PartitionOffset[] = payload.topics.flatMap((t) =>
        t.partitions.map((p) => ({ topic: t.topic, partition: Number(p.partition), offset: String(p.offset) })),
      );
      this.offsets.markCommitted(done);
      this.committedCount += done.length;
    });
  }

  /** Records handed out and neither acknowledged nor released. */
  get inFlight(): number {
    return this.outstanding;
  }

  /** A member of its group with partitions assigned (or none to assign) and not rebalancing. */
  get ready(): boolean {
    return this.joined && !this.stopping;
  }

  /** Offset commits Kafka confirmed (one per partition and commit). */
  get commits(): number {
    return this.committedCount;
  }

  /** Joins the group and starts handing records to `handler`; rejects when Kafka or the topics cannot be reached. */
  async connect(handler: (inbound: KafkaInbound) => void): Promise<void> {
    this.handler = handler;
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: this.config.topics ? [...this.config.topics] : [new RegExp(this.config.topicPattern!)],
      fromBeginning: this.config.startFrom === 'earliest',
    });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.onBatch(payload) });
  }

  /** Takes no more records; those in flight may still be acknowledged. */
  stopIntake(): void {
    this.stopping = true;
    for (const wake of this.roomWaiters) wake();
  }

  /** Waits (at most `timeoutMs`) for every record in flight to be acknowledged or released. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.outstanding > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** Commits what is confirmed, then leaves the group (each step bounded). */
  async close(): Promise<void> {
    this.stopIntake();
    clearTimeout(this.commitTimer);
    await this.flushCommits();
    await bounded(this.consumer.disconnect(), DISCONNECT_TIMEOUT_MS).catch((error: Error) =>
      this.log.error({ msg: 'Kafka consumer did not leave its group in time', rule: this.name, detail: error.message }),
    );
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || !(await this.waitForRoom(heartbeat))) return;
      const record: ConsumedRecord = {
        topic: batch.topic,
        partition: batch.partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        headers: message.headers ?? {},
      };
      this.handOut(record);
      // Moves the fetch position only; what is committed is decided by the OffsetTracker.
      resolveOffset(message.offset);
    }
  }

  private handOut(record: ConsumedRecord): void {
    const ticket = this.offsets.track(record.topic, record.partition, record.offset);
    this.outstanding++;
    let settled = false;
    const settle = (confirmed: boolean) => {
      if (settled) return;
      settled = true;
      this.outstanding--;
      if (confirmed) {
        this.offsets.confirm(ticket);
        this.scheduleCommit();
      }
      for (const wake of this.roomWaiters) wake();
    };
    this.handler!({ record, ack: () => settle(true), release: () => settle(false) });
  }

  /** Resolves true once a record may be handed out, false when stopping; heartbeats meanwhile. */
  private async waitForRoom(heartbeat: () => Promise<void>): Promise<boolean> {
    while (this.outstanding >= this.config.maxInFlight && !this.stopping) {
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      const timer = setTimeout(wake, HEARTBEAT_WHILE_WAITING_MS);
      this.roomWaiters.add(wake);
      await woken;
      clearTimeout(timer);
      this.roomWaiters.delete(wake);
      // Throws when the group rebalances: kafkajs then rejoins, and this batch is read again.
      if (!this.stopping) await heartbeat();
    }
    return !this.stopping;
  }

  private scheduleCommit(): void {
    if (this.commitTimer) return;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      void this.flushCommits();
    }, this.config.commitIntervalMs);
  }

  /** One commit at a time; a failed one is tried again later (the positions stay uncommitted). */
  private async flushCommits(): Promise<void> {
    while (this.commitInFlight) await this.commitInFlight;
    const offsets = this.offsets.uncommitted();
    if (offsets.length === 0) return;
    this.commitInFlight = bounded(this.consumer.commitOffsets(offsets), DISCONNECT_TIMEOUT_MS)
      .catch((error: Error) => {
        this.log.warn({ msg: 'offset commit failed; retrying', rule: this.name, detail: error.message });
        if (!this.stopping) setTimeout(() => this.scheduleCommit(), 1_000).unref();
      })
      .finally(() => (this.commitInFlight = undefined));
    await this.commitInFlight;
  }
}

function bounded<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
