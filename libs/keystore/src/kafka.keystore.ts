import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Admin, Consumer, IHeaders, KafkaMessage, Producer } from 'kafkajs';
import { KafkaClientFactory, kafkaClientConfig, KafkaConnectionConfig } from '@app/kafka';
import { Keystore, KeystoreConflictError, KeystoreUnavailableError } from './keystore';
import { StoredKey, storedKeySchema } from './stored-key';

export interface KafkaKeystoreOptions {
  topic: string;
  masterKeyId: string;
  acceptedMasterKeyIds?: readonly string[]; // other ids records may carry during a master key rotation
  clientId?: string; // default: the connection's
  timeoutMs?: number; // longest wait for the mirror to catch up, per step; also bounds close()
}

// origin: offset of the accepted write the entry stems from (a repair keeps its original's).
type Entry = { key: StoredKey; offset: number; origin: number };
type Waiter = { target: number; resolve(): void; reject(error: Error): void };
type Clients = { admin: Admin; producer: Producer; consumer: Consumer };

const [WRITER, EXPECTED, REPAIR_OF] = ['keystore-writer', 'keystore-expected-revision', 'keystore-repair-of'];
// Younger records stay uncompacted, so every reader sees a race and its repair together.
const MIN_COMPACTION_LAG_MS = 3_600_000;
const CLOSE_TIMEOUT_MS = 5_000;
const CHANGE_DEBOUNCE_MS = 100;

/**
 * The shared keystore: a compacted single-partition Kafka topic, one record per key (key =
 * key name, value = `{ masterKeyId, key }`, purge = tombstone). Every instance mirrors the
 * topic in memory and applies the same acceptance rule in log order, so a fleet of workers and
 * admin replicas agree on the keys without a database; concurrent writers with the same base
 * revision get exactly one winner, the others a KeystoreConflictError.
 */
export class KafkaKeystore implements Keystore {
  private readonly log = new Logger(KafkaKeystore.name);
  private readonly id = randomBytes(6).toString('hex');
  private readonly timeoutMs: number;
  private readonly entries = new Map<string, Entry>();
  // Purged names: unlike never-seen names, they only accept a new revision 1.
  private readonly deleted = new Set<string>();
  // Accept/reject verdicts on this instance's own records, read once by the writer.
  private readonly verdicts = new Map<number, boolean>();
  private readonly listeners: (() => void)[] = [];
  private waiters: Waiter[] = [];
  private position = 0;
  private liveFrom = Infinity;
  private lastApplied = -1;
  private clients?: Clients;
  private queue: Promise<unknown> = Promise.resolve();
  private closing?: Promise<void>;
  private changeTimer?: NodeJS.Timeout;

  constructor(
    private readonly factory: KafkaClientFactory,
    private readonly connection: KafkaConnectionConfig,
    private readonly options: KafkaKeystoreOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  describe(): string {
    return `kafka topic ${this.options.topic}`;
  }

  async open(): Promise<void> {
    if (this.clients || this.closing) throw new KeystoreUnavailableError(`keystore ${this.describe()} is already open or closed`);
    const clientId = this.options.clientId ?? this.connection.clientId;
    const kafka = this.factory.createClient(kafkaClientConfig({ ...this.connection, clientId }));
    const clients: Clients = {
      admin: kafka.admin(),
      producer: kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false }),
      // A private group that never commits: every instance reads the whole topic itself.
      consumer: kafka.consumer({ groupId: `${clientId}.keystore.${this.id}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 }),
    };
    this.clients = clients;
    try {
      await clients.admin.connect();
      await this.createTopic(clients.admin);
      const target = (this.liveFrom = await this.highWatermark(true));
      await Promise.all([clients.producer.connect(), this.startMirror(clients.consumer)]);
      await this.reach(target);
    } catch (error) {
      this.clients = undefined;
      await this.disconnect(clients);
      throw unavailable(`cannot open the keystore ${this.describe()}`, error);
    }
  }

  async list(): Promise<StoredKey[]> {
    await this.reach(await this.highWatermark());
    return [...this.entries.values()].map((e) => e.key).sort((a, b) => a.name.localeCompare(b.name));
  }

  put(key: StoredKey, expectedRevision: number): Promise<void> {
    // A record the mirror would skip would pass for a lost race.
    if (key.revision !== expectedRevision + 1 || !storedKeySchema.safeParse(key).success) return Promise.reject(new RangeError(`key "${key.name}" is not a valid stored key at revision ${expectedRevision + 1}`));
    return this.serial(() => this.write(key.name, expectedRevision, this.encode(key), {}));
  }

  remove(name: string, expectedRevision: number): Promise<void> {
    return this.serial(() => this.write(name, expectedRevision, null, { [EXPECTED]: String(expectedRevision) }));
  }

  async fingerprint(): Promise<string> {
    return `${this.options.topic}@${this.lastApplied}`;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.changeTimer);
      const clients = this.clients;
      this.clients = undefined;
      for (const w of this.waiters.splice(0)) w.reject(new KeystoreUnavailableError(`keystore ${this.describe()} closed`));
      await this.bounded(this.queue);
      if (clients) await this.disconnect(clients);
    })();
    return this.closing;
  }

  private async write(name: string, expected: number, value: Buffer | null, headers: IHeaders): Promise<void> {
    this.verdicts.clear();
    await this.reach(await this.highWatermark());
    const actual = () => this.entries.get(name)?.key.revision ?? 0;
    if (actual() !== expected) throw new KeystoreConflictError(name, expected, actual());
    if (await this.produce(name, value, headers)) return;
    // Another writer got in first and our record was rejected. Compaction keeps only the last
    // record per key, so if ours stayed last, a reader starting after compaction would take it
    // for the truth. Re-publishing the winner (or its tombstone) makes the last record an
    // accepted one. Residual risk: this process dies before the repair lands and compaction
    // runs on both before anything else is written for the key; min.compaction.lag.ms delays it.
    const winner = this.entries.get(name);
    await this.produce(name, winner ? this.encode(winner.key) : null, { [REPAIR_OF]: winner ? String(winner.origin) : 'deleted' }).catch((error) =>
      this.log.warn(`keystore ${this.describe()}: could not repair key "${name}" after a lost race (${errorText(error)})`),
    );
    throw new KeystoreConflictError(name, expected, actual());
  }

  // Resolves once the mirror has judged the record: true when accepted.
  private async produce(name: string, value: Buffer | null, headers: IHeaders): Promise<boolean> {
    let offset: number;
    try {
      const message = { key: name, value, partition: 0, headers: { ...headers, [WRITER]: this.id } };
      const [meta] = await this.requireOpen().producer.send({ topic: this.options.topic, acks: -1, messages: [message] });
      offset = Number(meta.baseOffset ?? meta.offset);
    } catch (error) {
      throw unavailable(`cannot write to the keystore ${this.describe()}`, error);
    }
    await this.reach(offset + 1);
    return this.verdicts.get(offset) ?? false; // cleared by the next write
  }

  private async startMirror(consumer: Consumer): Promise<void> {
    // Batches made only of compacted-away or control records never reach eachMessage.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => payload.partition === 0 && this.advance(Number(payload.lastOffset) + 1));
    consumer.on(consumer.events.CRASH, ({ payload: p }) => this.log.warn(`keystore ${this.describe()}: reader failed (${errorText(p.error)})${p.restart ? ', restarting' : ''}`));
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachMessage: async ({ partition, message }) => void (partition === 0 && this.apply(message)) });
  }

  // The acceptance rule, identical in every process. A put is accepted when its revision is
  // the current one + 1 (0 when absent) or when the name was never seen: after compaction a
  // reader's first record for a key is its latest, at any revision. A tombstone is accepted
  // when it names the current revision (or names none: a manual purge). A repair is accepted
  // when the state it copies is still the current one.
  private apply(message: KafkaMessage): void {
    const offset = Number(message.offset);
    if (offset < this.position) return; // a restarted reader starts over from the beginning
    const name = message.key?.toString('utf8') ?? '';
    const header = (h: string) => (message.headers?.[h] === undefined ? undefined : String(message.headers[h]));
    const entry = this.entries.get(name);
    const repairOf = header(REPAIR_OF);
    let accepted = false;
    if (message.value === null) {
      const expected = header(EXPECTED);
      accepted = repairOf !== undefined ? !entry : expected === undefined || entry?.key.revision === Number(expected);
      if (accepted || !entry) {
        this.entries.delete(name);
        this.deleted.add(name);
      }
    } else {
      const key = this.parse(name, message.value, offset);
      const fresh = !entry && !this.deleted.has(name);
      accepted = !!key && (fresh || (repairOf !== undefined ? entry?.origin === Number(repairOf) : key.revision === (entry?.key.revision ?? 0) + 1));
      if (key && accepted) {
        this.entries.set(name, { key, offset, origin: repairOf !== undefined ? Number(repairOf) : offset });
        this.deleted.delete(name);
      }
    }
    if (accepted) this.lastApplied = offset;
    if (header(WRITER) === this.id) this.verdicts.set(offset, accepted);
    else if (accepted && offset >= this.liveFrom) this.changed();
    this.advance(offset + 1);
  }

  private parse(name: string, value: Buffer, offset: number): StoredKey | undefined {
    // Values hold wrapped secrets: warnings name the record, never quote it.
    const skip = (why: string): undefined => {
      this.log.warn(`keystore ${this.describe()}: skipped the record at offset ${offset} for key ${JSON.stringify(name.slice(0, 100))}: ${why}`);
      return undefined;
    };
    let doc: { masterKeyId?: unknown; key?: unknown } | null;
    try {
      doc = JSON.parse(value.toString('utf8'));
    } catch {
      return skip('not JSON');
    }
    if (typeof doc !== 'object' || doc === null) return skip('not a JSON object');
    if (doc.masterKeyId !== this.options.masterKeyId && !this.options.acceptedMasterKeyIds?.includes(doc.masterKeyId as string)) return skip('wrapped with another master key');
    const parsed = storedKeySchema.safeParse(doc.key);
    if (!parsed.success) return skip(`not a stored key (${[...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(key)'))].slice(0, 5).join(', ')})`);
    if (parsed.data.name !== name) return skip('the key name differs from the record key');
    return parsed.data;
  }

  private changed(): void {
    if (this.closing) return;
    this.changeTimer ??= setTimeout(() => {
      this.changeTimer = undefined;
      for (const listener of this.listeners) Promise.resolve().then(listener).catch((e) => this.log.warn(`keystore ${this.describe()}: change listener failed (${errorText(e)})`));
    }, CHANGE_DEBOUNCE_MS);
  }

  private advance(to: number): void {
    if (to <= this.position) return;
    this.position = to;
    const due = this.waiters.filter((w) => w.target <= to);
    this.waiters = this.waiters.filter((w) => w.target > to);
    for (const w of due) w.resolve();
  }

  private reach(target: number): Promise<void> {
    if (this.position >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new KeystoreUnavailableError(`keystore ${this.describe()}: not caught up to offset ${target} within ${this.timeoutMs} ms (at ${this.position})`));
      }, this.timeoutMs);
      const waiter: Waiter = { target, resolve: () => (clearTimeout(timer), resolve()), reject: (e) => (clearTimeout(timer), reject(e)) };
      this.waiters.push(waiter);
    });
  }

  // On open, retried while a topic just created by another process gets its leader.
  private async highWatermark(retry = false): Promise<number> {
    for (const deadline = Date.now() + this.timeoutMs; ; await new Promise((r) => setTimeout(r, 200))) {
      try {
        const offsets = await this.requireOpen().admin.fetchTopicOffsets(this.options.topic);
        return Number(offsets.find((o) => o.partition === 0)?.high ?? 0);
      } catch (error) {
        if (!retry || Date.now() > deadline || !this.clients) throw unavailable(`cannot read the offsets of ${this.describe()}`, error);
      }
    }
  }

  // kafkajs resolves false on TOPIC_ALREADY_EXISTS, also when another process won the race
  // to create it. No replication factor: the cluster's default.
  private async createTopic(admin: Admin): Promise<void> {
    const configEntries = [{ name: 'cleanup.policy', value: 'compact' }, { name: 'min.compaction.lag.ms', value: String(MIN_COMPACTION_LAG_MS) }];
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: this.options.topic, numPartitions: 1, configEntries }] });
  }

  private serial(run: () => Promise<void>): Promise<void> {
    const result = this.queue.then(() => (this.requireOpen(), run()));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private requireOpen(): Clients {
    if (!this.clients) throw new KeystoreUnavailableError(`keystore ${this.describe()} is not open`);
    return this.clients;
  }

  // kafkajs disconnect can hang while a rebalance is in progress, and close must not.
  private async disconnect(clients: Clients): Promise<void> {
    await Promise.all([clients.consumer.disconnect(), clients.producer.disconnect(), clients.admin.disconnect()].map((p) => this.bounded(p)));
  }

  private bounded(p: Promise<unknown>): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, Math.min(this.timeoutMs, CLOSE_TIMEOUT_MS))))]).finally(() => clearTimeout(timer));
  }

  private encode(key: StoredKey): Buffer {
    return Buffer.from(JSON.stringify({ masterKeyId: this.options.masterKeyId, key }), 'utf8');
  }
}

function unavailable(message: string, error: unknown): Error {
  if (error instanceof KeystoreUnavailableError || error instanceof KeystoreConflictError) return error;
  return new KeystoreUnavailableError(`${message}: ${errorText(error)}`, { cause: error });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
