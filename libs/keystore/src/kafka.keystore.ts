import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Admin, Consumer, IHeaders, KafkaMessage, Producer } from 'kafkajs';
import { KafkaClientFactory, kafkaClientConfig, KafkaConnectionConfig } from '@app/kafka';
import { Keystore, KeystoreConflictError, KeystoreSnapshot, KeystoreUnavailableError } from './keystore';
import type { KeystoreManifest, ManifestAuthority } from './keystore.manifest';
import { StoredKey, storedKeySchema } from './stored-key';
import { ReadPosition } from './read-position';

export interface KafkaKeystoreOptions {
  topic: string;
  masterKeyId: string;
  acceptedMasterKeyIds?: readonly string[]; // other ids records may carry during a master key rotation
  clientId?: string; // default: the connection's
  timeoutMs?: number; // longest wait for the mirror to catch up, per step; also bounds close()
  manifests?: ManifestAuthority; // keeps the store's manifest; without it (tooling, tests) snapshot() vouches for every entry
}

// origin: offset of the accepted write the entry stems from (a repair keeps its original's).
type Entry = { key: StoredKey; offset: number; origin: number };
type Clients = { admin: Admin; producer: Producer; consumer: Consumer };
// A key record written together with a manifest, held until that manifest is judged.
type Pending = { name: string; key: StoredKey | null; offset: number; mine: boolean; commit(): void };
type Verdict = { accepted: boolean; key?: StoredKey; commit?: () => void };

const [WRITER, EXPECTED, REPAIR_OF, GENERATION] = ['keystore-writer', 'keystore-expected-revision', 'keystore-repair-of', 'keystore-generation'];
// The manifest's record key: not a valid key name, so no key can take its place.
const MANIFEST_KEY = '#manifest';
// A write whose key was untouched but whose manifest lost to another key's write is re-sent.
const MANIFEST_RETRIES = 8;
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
  /** How far the mirror has read; writes and reads wait on it. */
  private readonly read: ReadPosition;
  private liveFrom = Infinity;
  private lastApplied = -1;
  private manifest?: KeystoreManifest;
  private pending?: Pending;
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
    this.read = new ReadPosition(this.timeoutMs, () => this.describe());
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
      await this.read.reach(target);
    } catch (error) {
      this.clients = undefined;
      await this.disconnect(clients);
      throw unavailable(`cannot open the keystore ${this.describe()}`, error);
    }
  }

  async list(): Promise<StoredKey[]> {
    await this.read.reach(await this.highWatermark());
    return [...this.entries.values()].map((e) => e.key).sort((a, b) => a.name.localeCompare(b.name));
  }

  async snapshot(): Promise<KeystoreSnapshot> {
    const keys = await this.list();
    return this.options.manifests ? this.options.manifests.check(keys, this.manifest, this.describe()) : { keys, problems: [], generation: 0 };
  }

  put(key: StoredKey, expectedRevision: number): Promise<void> {
    // A record the mirror would skip would pass for a lost race.
    if (key.revision !== expectedRevision + 1 || !storedKeySchema.safeParse(key).success)
      return Promise.reject(new RangeError(`key "${key.name}" is not a valid stored key at revision ${expectedRevision + 1}`));
    return this.serial(() => this.write(key.name, expectedRevision, key, {}));
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
      this.read.rejectAll(new KeystoreUnavailableError(`keystore ${this.describe()} closed`));
      await this.bounded(this.queue);
      if (clients) await this.disconnect(clients);
    })();
    return this.closing;
  }

  private async write(name: string, expected: number, key: StoredKey | null, headers: IHeaders): Promise<void> {
    const actual = () => this.entries.get(name)?.key.revision ?? 0;
    for (let attempt = 0; ; attempt++) {
      this.verdicts.clear();
      await this.read.reach(await this.highWatermark());
      if (actual() !== expected) throw new KeystoreConflictError(name, expected, actual());
      const messages = [{ key: name, value: key && this.encode(key), headers }];
      const manifests = this.options.manifests;
      if (manifests) {
        // Refuses to write on top of a rolled-back state, which the new manifest would carry forward.
        manifests.check(
          [...this.entries.values()].map((e) => e.key),
          this.manifest,
          this.describe(),
        );
        const manifest = manifests.next(
          this.manifest,
          [...this.entries.values()].map((e) => e.key),
          name,
          key ?? undefined,
        );
        messages[0] = { ...messages[0], headers: { ...headers, [GENERATION]: String(manifest.generation) } };
        messages.push({ key: MANIFEST_KEY, value: Buffer.from(JSON.stringify(manifest), 'utf8'), headers: {} });
      }
      if (await this.produce(messages)) {
        if (this.manifest) manifests?.watermark.observe(this.manifest.generation);
        return;
      }
      if (manifests && actual() === expected && attempt < MANIFEST_RETRIES) continue;
      break;
    }
    // Another writer got in first and our record was rejected. Compaction keeps only the last
    // record per key, so if ours stayed last, a reader starting after compaction would take it
    // for the truth. Re-publishing the winner (or its tombstone) makes the last record an
    // accepted one. Residual risk: this process dies before the repair lands and compaction
    // runs on both before anything else is written for the key; min.compaction.lag.ms delays it.
    const winner = this.entries.get(name);
    await this.produce([
      { key: name, value: winner ? this.encode(winner.key) : null, headers: { [REPAIR_OF]: winner ? String(winner.origin) : 'deleted' } },
    ]).catch((error) => this.log.warn(`keystore ${this.describe()}: could not repair key "${name}" after a lost race (${errorText(error)})`));
    throw new KeystoreConflictError(name, expected, actual());
  }

  // Resolves once the mirror has judged the first record: true when accepted. The records go
  // in one send, so one batch: they are appended together and nothing can come between them.
  private async produce(records: Array<{ key: string; value: Buffer | null; headers: IHeaders }>): Promise<boolean> {
    let offset: number;
    try {
      const messages = records.map((r) => ({ ...r, partition: 0, headers: { ...r.headers, [WRITER]: this.id } }));
      const [meta] = await this.requireOpen().producer.send({ topic: this.options.topic, acks: -1, messages });
      offset = Number(meta.baseOffset ?? meta.offset);
    } catch (error) {
      throw unavailable(`cannot write to the keystore ${this.describe()}`, error);
    }
    await this.read.reach(offset + records.length);
    return this.verdicts.get(offset) ?? false; // cleared by the next write
  }

  private async startMirror(consumer: Consumer): Promise<void> {
    // Batches made only of compacted-away or control records never reach eachMessage.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => payload.partition === 0 && this.read.advance(Number(payload.lastOffset) + 1));
    consumer.on(consumer.events.CRASH, ({ payload: p }) =>
      this.log.warn(`keystore ${this.describe()}: reader failed (${errorText(p.error)})${p.restart ? ', restarting' : ''}`),
    );
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachMessage: async ({ partition, message }) => void (partition === 0 && this.apply(message)) });
  }

  // The acceptance rule, identical in every process. A put is accepted when its revision is
  // the current one + 1 (0 when absent) or when the name was never seen: after compaction a
  // reader's first record for a key is its latest, at any revision. A tombstone is accepted
  // when it names the current revision (or names none: a manual purge). A repair is accepted
  // when the state it copies is still the current one.
  //
  // With manifests, once a reader has seen one, a record written with a manifest (GENERATION
  // header) is held and takes effect only if the manifest right after it is accepted: signed by
  // the master key, generation exactly one above the current, listing that very record. So a
  // replayed or forged pair changes nothing, and two writers of different keys get one winner
  // (the other retries). Before the first manifest (a compacted prefix, a legacy topic) records
  // apply as they come, and the first manifest is taken at any generation: snapshot() then
  // checks the entries against it and the generation against the watermark.
  private apply(message: KafkaMessage): void {
    const offset = Number(message.offset);
    if (offset < this.read.position) return; // a restarted reader starts over from the beginning
    const name = message.key?.toString('utf8') ?? '';
    const header = (h: string) => (message.headers?.[h] === undefined ? undefined : String(message.headers[h]));
    const pending = this.pending;
    this.pending = undefined;
    const mine = header(WRITER) === this.id;
    let accepted = false;
    if (name === MANIFEST_KEY) {
      accepted = this.takeManifest(message.value, offset, pending);
      if (accepted && pending?.mine) this.verdicts.set(pending.offset, true);
      if (accepted && !pending?.mine && offset >= this.liveFrom) this.changed();
    } else {
      const verdict = this.judge(name, message, offset, header);
      if (this.manifest && this.options.manifests && header(GENERATION) !== undefined) {
        if (verdict.accepted && verdict.commit) this.pending = { name, key: verdict.key ?? null, offset, mine, commit: verdict.commit };
        if (mine && !verdict.accepted) this.verdicts.set(offset, false);
        this.read.advance(offset + 1);
        return;
      }
      verdict.commit?.();
      accepted = verdict.accepted;
      if (mine) this.verdicts.set(offset, accepted);
      else if (accepted && offset >= this.liveFrom) this.changed();
    }
    if (accepted) this.lastApplied = offset;
    this.read.advance(offset + 1);
  }

  // The per-key rule, without applying anything: `commit` makes the change.
  private judge(name: string, message: KafkaMessage, offset: number, header: (h: string) => string | undefined): Verdict {
    const entry = this.entries.get(name);
    const repairOf = header(REPAIR_OF);
    if (message.value === null) {
      const expected = header(EXPECTED);
      const accepted = repairOf !== undefined ? !entry : expected === undefined || entry?.key.revision === Number(expected);
      return { accepted, commit: accepted || !entry ? () => (this.entries.delete(name), this.deleted.add(name)) : undefined };
    }
    const key = this.parse(name, message.value, offset);
    const fresh = !entry && !this.deleted.has(name);
    const accepted = !!key && (fresh || (repairOf !== undefined ? entry?.origin === Number(repairOf) : key.revision === (entry?.key.revision ?? 0) + 1));
    if (!key || !accepted) return { accepted };
    return {
      accepted,
      key,
      commit: () => (this.entries.set(name, { key, offset, origin: repairOf !== undefined ? Number(repairOf) : offset }), this.deleted.delete(name)),
    };
  }

  private takeManifest(value: Buffer | null, offset: number, pending: Pending | undefined): boolean {
    const manifests = this.options.manifests;
    if (!manifests) return false;
    let raw: unknown;
    try {
      raw = value && JSON.parse(value.toString('utf8'));
    } catch {
      raw = undefined;
    }
    const manifest = manifests.parse(raw);
    const current = this.manifest;
    const refuse = (why: string) => (this.log.error(`keystore ${this.describe()}: refused the manifest at offset ${offset}: ${why}`), false);
    if (!manifest) return refuse('not signed by the master key (forged or altered)');
    // Equal generations after a held record: two writers raced, the loser retries; nothing to report.
    if (current && pending && manifest.generation === current.generation) return false;
    if (current && manifest.generation !== current.generation + 1)
      return refuse(`generation ${manifest.generation} does not follow the current ${current.generation} (replayed)`);
    // Without a held record, a manifest can only start a reader's view.
    if (!pending) return current ? refuse('no record was written with it') : ((this.manifest = manifest), true);
    const listed = manifest.keys[pending.name];
    if (pending.key ? listed?.mac !== pending.key.mac : listed !== undefined) return refuse(`it does not list the record at offset ${pending.offset}`);
    pending.commit();
    this.manifest = manifest;
    return true;
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
    if (doc.masterKeyId !== this.options.masterKeyId && !this.options.acceptedMasterKeyIds?.includes(doc.masterKeyId as string))
      return skip('wrapped with another master key');
    const parsed = storedKeySchema.safeParse(doc.key);
    if (!parsed.success) return skip(`not a stored key (${[...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(key)'))].slice(0, 5).join(', ')})`);
    if (parsed.data.name !== name) return skip('the key name differs from the record key');
    return parsed.data;
  }

  private changed(): void {
    if (this.closing) return;
    this.changeTimer ??= setTimeout(() => {
      this.changeTimer = undefined;
      for (const listener of this.listeners)
        Promise.resolve()
          .then(listener)
          .catch((e) => this.log.warn(`keystore ${this.describe()}: change listener failed (${errorText(e)})`));
    }, CHANGE_DEBOUNCE_MS);
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
    const configEntries = [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'min.compaction.lag.ms', value: String(MIN_COMPACTION_LAG_MS) },
    ];
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
    return Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, Math.min(this.timeoutMs, CLOSE_TIMEOUT_MS))))]).finally(() =>
      clearTimeout(timer),
    );
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
