import { Logger } from '@nestjs/common';
import type { IHeaders, Kafka, KafkaConfig } from 'kafkajs';
import { KafkaClientFactory, kafkaConnectionSchema } from '@app/kafka';
import { SodiumProvider, type Sodium } from '@app/crypto';
import { GenerationWatermark } from './generation.watermark';
import { KafkaKeystore } from './kafka.keystore';
import { signed } from './key-records';
import { ManifestAuthority } from './keystore.manifest';
import { MasterKey } from './master-key';
import { MasterKeyRing } from './master-key-ring';
import { KeystoreConflictError, KeystoreUnavailableError } from './keystore';
import type { StoredKey } from './stored-key';

/*
 * A fake kafkajs cluster: one in-memory log per topic, consumers that poll it, and hooks to
 * inject records (another writer winning a race), compact it, or make the cluster unreachable.
 */
interface FakeRecord {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

class FakeCluster {
  readonly topics = new Map<string, { records: FakeRecord[]; next: number; config: unknown }>();
  down = false;
  hangDisconnect = false;
  /** Runs before a produced record is appended: lets a test slip a competing record in first. */
  beforeAppend?: (topic: string, key: string) => void;

  append(topic: string, key: string | null, value: string | Buffer | null, headers: IHeaders = {}): number {
    const t = this.topics.get(topic)!;
    const offset = t.next++;
    t.records.push({ offset, key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value), headers });
    return offset;
  }

  /** What the log cleaner ends up with: the last record per key, original offsets kept. */
  compact(topic: string): void {
    const t = this.topics.get(topic)!;
    const last = new Map(t.records.map((r) => [r.key?.toString(), r.offset]));
    t.records = t.records.filter((r) => last.get(r.key?.toString()) === r.offset);
  }

  factory(): KafkaClientFactory {
    return { createClient: (_config: KafkaConfig) => this.client() as unknown as Kafka };
  }

  private check(): void {
    if (this.down) throw Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError' });
  }

  private client() {
    const disconnect = () => (this.hangDisconnect ? new Promise<void>(() => undefined) : Promise.resolve());
    return {
      admin: () => ({
        connect: async () => this.check(),
        disconnect,
        createTopics: async ({ topics }: { topics: { topic: string }[] }) => {
          this.check();
          if (this.topics.has(topics[0].topic)) return false;
          this.topics.set(topics[0].topic, { records: [], next: 0, config: topics[0] });
          return true;
        },
        fetchTopicOffsets: async (topic: string) => {
          this.check();
          const next = String(this.topics.get(topic)!.next);
          return [{ partition: 0, offset: next, high: next, low: '0' }];
        },
      }),
      producer: () => ({
        connect: async () => this.check(),
        disconnect,
        send: async ({ topic, messages }: { topic: string; messages: { key: string; value: Buffer | null; headers: IHeaders }[] }) => {
          this.check();
          const [m] = messages;
          this.beforeAppend?.(topic, m.key);
          // One send is one batch: its records are appended together, in order.
          const [offset] = messages.map((r) => this.append(topic, r.key, r.value, r.headers));
          return [{ topicName: topic, partition: 0, errorCode: 0, baseOffset: String(offset) }];
        },
      }),
      consumer: () => {
        let timer: NodeJS.Timeout | undefined;
        let topic = '';
        return {
          events: { END_BATCH_PROCESS: 'end', CRASH: 'crash' },
          on: () => undefined,
          connect: async () => this.check(),
          subscribe: async (s: { topic: string }) => void (topic = s.topic),
          run: async ({ eachMessage }: { eachMessage: (p: unknown) => Promise<void> }) => {
            let position = 0;
            const deliver = async () => {
              for (const r of this.topics.get(topic)!.records.filter((x) => x.offset >= position)) {
                position = r.offset + 1;
                await eachMessage({ topic, partition: 0, message: { ...r, offset: String(r.offset), timestamp: '0', attributes: 0 } });
              }
            };
            timer = setInterval(() => void deliver(), 2);
          },
          disconnect: () => (clearInterval(timer), disconnect()),
        };
      },
    };
  }
}

const MASTER = 'master-1';
const connection = kafkaConnectionSchema.parse({ brokers: ['fake:9092'] });
const stamp = '2024-01-01T00:00:00.000Z';

function storedKey(name: string, revision: number, wrapped = 'd3JhcHBlZA'): StoredKey {
  return {
    name,
    type: 'symmetric',
    exportable: false,
    createdAt: stamp,
    updatedAt: stamp,
    revision,
    primaryVersion: 1,
    minDecryptionVersion: 1,
    versions: [{ version: 1, state: 'active', createdAt: stamp, origin: 'generated', wrapped }],
  };
}

const value = (key: StoredKey, masterKeyId = MASTER) => JSON.stringify({ masterKeyId, key });
const until = async (condition: () => boolean) => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!condition()) throw new Error('condition not met');
};

describe('KafkaKeystore (fake kafkajs)', () => {
  let cluster: FakeCluster;
  const open: KafkaKeystore[] = [];
  const topic = 'keys';

  async function store(opts: { timeoutMs?: number } = {}): Promise<KafkaKeystore> {
    const s = new KafkaKeystore(cluster.factory(), connection, { topic, masterKeyId: MASTER, ...opts });
    open.push(s);
    await s.open();
    return s;
  }

  beforeEach(() => {
    cluster = new FakeCluster();
  });
  afterEach(async () => {
    cluster.hangDisconnect = false;
    await Promise.all(open.splice(0).map((s) => s.close()));
    jest.restoreAllMocks();
  });

  it('creates a compacted single-partition topic and starts empty', async () => {
    const s = await store();
    expect(cluster.topics.get(topic)!.config).toMatchObject({
      numPartitions: 1,
      configEntries: expect.arrayContaining([
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'min.compaction.lag.ms', value: '3600000' },
      ]),
    });
    expect(await s.list()).toEqual([]);
    expect(s.describe()).toBe('kafka topic keys');
  });

  it('shares writes between instances and tells the other one', async () => {
    const [a, b] = [await store(), await store()];
    const [heardA, heardB] = [jest.fn(), jest.fn()];
    a.onChange(heardA);
    b.onChange(heardB);
    const before = await b.fingerprint();
    await a.put(storedKey('k1', 1), 0);
    expect(await a.list()).toEqual([storedKey('k1', 1)]);
    expect(await b.list()).toEqual([storedKey('k1', 1)]);
    expect(await b.fingerprint()).not.toBe(before);
    await until(() => heardB.mock.calls.length > 0);
    expect(heardA).not.toHaveBeenCalled();
  });

  it('refuses a stale revision without writing anything', async () => {
    const s = await store();
    await s.put(storedKey('k1', 1), 0);
    await s.put(storedKey('k1', 2), 1);
    const records = cluster.topics.get(topic)!.next;
    await expect(s.put(storedKey('k1', 2, 'other'), 1)).rejects.toMatchObject({ code: 'keystore-conflict', expected: 1, actual: 2 });
    await expect(s.put(storedKey('k1', 1), 0)).rejects.toThrow(KeystoreConflictError);
    await expect(s.remove('k1', 1)).rejects.toThrow(KeystoreConflictError);
    await expect(s.remove('nope', 1)).rejects.toThrow(/does not exist/);
    expect(cluster.topics.get(topic)!.next).toBe(records);
    expect(await s.list()).toEqual([storedKey('k1', 2)]);
  });

  it('refuses, before writing, a key that is invalid or whose revision is not expectedRevision + 1', async () => {
    const s = await store();
    await expect(s.put(storedKey('k1', 3), 0)).rejects.toThrow(RangeError);
    await expect(s.put(storedKey('bad name!', 1), 0)).rejects.toThrow(RangeError);
    expect(cluster.topics.get(topic)!.next).toBe(0);
  });

  it('purges with a tombstone that names the revision', async () => {
    const [a, b] = [await store(), await store()];
    await a.put(storedKey('k1', 1), 0);
    await b.remove('k1', 1);
    const last = cluster.topics.get(topic)!.records.at(-1)!;
    expect(last.value).toBeNull();
    expect(String(last.headers['keystore-expected-revision'])).toBe('1');
    expect(await a.list()).toEqual([]);
    expect(await b.list()).toEqual([]);
    await a.put(storedKey('k1', 1, 'again'), 0); // a purged name can be created again
    expect(await b.list()).toEqual([storedKey('k1', 1, 'again')]);
  });

  it('skips bad records with a warning that quotes no value, keeping the good keys', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const s = await store();
    await s.put(storedKey('good', 1), 0);
    cluster.append(topic, 'good', 'not json SECRET1');
    cluster.append(topic, 'good', value(storedKey('good', 2, 'SECRET2'), 'other-master'));
    cluster.append(topic, 'good', JSON.stringify({ masterKeyId: MASTER, key: { ...storedKey('good', 2, 'SECRET3'), type: 'bogus' } }));
    cluster.append(topic, 'alias', value(storedKey('good', 1, 'SECRET4')));
    cluster.append(topic, 'later', value(storedKey('later', 1)));
    expect(await s.list()).toEqual([storedKey('good', 1), storedKey('later', 1)]);
    const messages = warn.mock.calls.map((c) => String(c[0]));
    expect(messages).toHaveLength(4);
    expect(messages.join('\n')).toMatch(/not JSON[\s\S]*another master key[\s\S]*not a stored key \(type\)[\s\S]*differs/);
    expect(messages.join('\n')).not.toMatch(/SECRET|d3JhcHBlZA/);
  });

  it('makes the loser of a race fail and re-publish the winner, so compaction keeps the winner', async () => {
    const s = await store();
    await s.put(storedKey('k1', 1), 0);
    // Another admin replica writes revision 2 between our check and our record.
    let winner = -1;
    cluster.beforeAppend = (t, key) => {
      cluster.beforeAppend = undefined;
      winner = cluster.append(t, key, value(storedKey('k1', 2, 'winner')), { 'keystore-writer': 'someone-else' });
    };
    await expect(s.put(storedKey('k1', 2, 'loser'), 1)).rejects.toMatchObject({ code: 'keystore-conflict', actual: 2 });
    expect(await s.list()).toEqual([storedKey('k1', 2, 'winner')]);
    const last = cluster.topics.get(topic)!.records.at(-1)!;
    expect(String(last.headers['keystore-repair-of'])).toBe(String(winner));
    expect(JSON.parse(last.value!.toString()).key).toEqual(storedKey('k1', 2, 'winner'));

    cluster.compact(topic);
    const fresh = await store();
    expect(await fresh.list()).toEqual([storedKey('k1', 2, 'winner')]);
    await fresh.put(storedKey('k1', 3), 2); // and the history goes on from there
    expect(await s.list()).toEqual([storedKey('k1', 3)]);
  });

  it('makes the loser of a race against a purge re-publish the tombstone', async () => {
    const s = await store();
    await s.put(storedKey('k1', 1), 0);
    cluster.beforeAppend = (t, key) => {
      cluster.beforeAppend = undefined;
      cluster.append(t, key, null, { 'keystore-expected-revision': '1' });
    };
    await expect(s.put(storedKey('k1', 2), 1)).rejects.toMatchObject({ actual: 0 });
    expect(await s.list()).toEqual([]);
    expect(cluster.topics.get(topic)!.records.at(-1)!.value).toBeNull();
    cluster.compact(topic);
    expect(await (await store()).list()).toEqual([]);
  });

  it('rebuilds the same state from a compacted log', async () => {
    const s = await store();
    for (let r = 1; r <= 3; r++) await s.put(storedKey('a', r), r - 1);
    await s.put(storedKey('b', 1), 0);
    await s.remove('b', 1);
    await s.put(storedKey('c', 1), 0);
    cluster.compact(topic);
    const fresh = await store();
    expect(await fresh.list()).toEqual(await s.list());
    expect(await fresh.fingerprint()).toBe(await s.fingerprint());
  });

  it('reports an unreachable cluster as KeystoreUnavailableError', async () => {
    cluster.down = true;
    await expect(store()).rejects.toThrow(KeystoreUnavailableError);
    cluster.down = false;
    const s = await store();
    cluster.down = true;
    await expect(s.list()).rejects.toMatchObject({ retriable: true, code: 'keystore-unavailable' });
    await expect(s.put(storedKey('k1', 1), 0)).rejects.toThrow(KeystoreUnavailableError);
  });

  it('closes within its timeout even when a disconnect hangs, and twice', async () => {
    const s = await store({ timeoutMs: 200 });
    cluster.hangDisconnect = true;
    const started = Date.now();
    await s.close();
    await s.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(s.list()).rejects.toThrow(KeystoreUnavailableError);
    await expect(s.put(storedKey('k1', 1), 0)).rejects.toThrow(KeystoreUnavailableError);
  });
});

describe('KafkaKeystore manifest: no rollback, no silent deletion (fake kafkajs)', () => {
  let cluster: FakeCluster;
  let sodium: Sodium;
  let ring: MasterKeyRing;
  const open: KafkaKeystore[] = [];
  const topic = 'keys';

  beforeAll(async () => {
    sodium = await new SodiumProvider().ready();
  });
  beforeEach(() => {
    cluster = new FakeCluster();
    ring = new MasterKeyRing(MasterKey.fromBytes(sodium, sodium.randombytes_buf(32)));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  /** A process: its own mirror and, unless given one it shares, its own memory of generations. */
  async function process(watermark = new GenerationWatermark()): Promise<KafkaKeystore> {
    const s = new KafkaKeystore(cluster.factory(), connection, { topic, masterKeyId: ring.current.id, manifests: new ManifestAuthority(ring, watermark) });
    open.push(s);
    await s.open();
    return s;
  }
  const sign = (key: StoredKey) => signed(key, ring.current);
  const records = () => cluster.topics.get(topic)!.records;
  const names = async (s: KafkaKeystore) => (await s.snapshot()).keys.map((k) => `${k.name}@${k.revision}`);

  it('writes each record with a manifest in the same batch, and a fresh reader after compaction trusts exactly that state', async () => {
    const admin = await process();
    await admin.put(sign(storedKey('a', 1)), 0);
    await admin.put(sign(storedKey('b', 1)), 0);
    await admin.put(sign(storedKey('a', 2)), 1);
    expect(records().map((r) => `${r.key}`)).toEqual(['a', '#manifest', 'b', '#manifest', 'a', '#manifest']);
    expect(JSON.parse(records().at(-1)!.value!.toString())).toMatchObject({ generation: 3, keys: { a: { revision: 2 }, b: { revision: 1 } } });
    cluster.compact(topic);
    const fresh = await process();
    expect(await names(fresh)).toEqual(['a@2', 'b@1']);
    expect((await fresh.snapshot()).generation).toBe(3);
  });

  it('refuses an old record replayed after compaction, and a deletion, while the other keys keep working', async () => {
    const admin = await process();
    await admin.put(sign(storedKey('a', 1)), 0);
    await admin.put(sign(storedKey('b', 1)), 0);
    const old = records().find((r) => `${r.key}` === 'a')!;
    await admin.put(sign(storedKey('a', 2, 'cmV2b2tlZA')), 1); // e.g. the revocation
    // The attacker replays the old record (and, below, a tombstone for b); compaction drops the genuine a@2.
    cluster.append(topic, 'a', old.value, {});
    cluster.compact(topic);
    const fresh = await process();
    const snapshot = await fresh.snapshot();
    expect(snapshot.keys.map((k) => k.name)).toEqual(['b']);
    expect(snapshot.problems).toEqual([{ path: 'a', message: expect.stringMatching(/revision 1 is not the one the manifest lists \(revision 2/) }]);
    // A running process never takes the replayed record in the first place.
    expect(await names(admin)).toEqual(['a@2', 'b@1']);

    cluster.append(topic, 'b', null, {});
    const after = await admin.snapshot();
    expect(after.keys.map((k) => k.name)).toEqual(['a']);
    expect(after.problems).toEqual([{ path: 'b', message: expect.stringMatching(/listed in the keystore manifest at revision 1 .* but missing/) }]);
  });

  it('refuses a replayed older manifest in log order, and a whole older state once a newer one was seen', async () => {
    const mark = new GenerationWatermark();
    const admin = await process(mark);
    await admin.put(sign(storedKey('a', 1)), 0);
    const oldPair = records()
      .slice(0, 2)
      .map((r) => ({ ...r }));
    await admin.put(sign(storedKey('a', 2)), 1);
    await admin.put(sign(storedKey('a', 3)), 2);
    for (const r of oldPair) cluster.append(topic, `${r.key}`, r.value, r.headers);
    expect(await names(admin)).toEqual(['a@3']); // the replayed pair changed nothing
    // Compaction keeps the replayed (last) manifest and record: the whole older state.
    cluster.compact(topic);
    const sameProcess = await process(mark);
    await expect(sameProcess.snapshot()).rejects.toMatchObject({
      code: 'keystore-rollback',
      message: expect.stringMatching(/generation 1, older than generation 3/),
    });
    await expect(sameProcess.put(sign(storedKey('a', 2)), 1)).rejects.toMatchObject({ code: 'keystore-rollback' });
    // The documented limit: a process that never saw the newer state cannot tell.
    expect(await names(await process())).toEqual(['a@1']);
  });

  it('ignores a manifest not signed by the master key', async () => {
    const admin = await process();
    await admin.put(sign(storedKey('a', 1)), 0);
    const forged = { ...JSON.parse(records()[1].value!.toString()), generation: 2, keys: {} };
    cluster.append(topic, '#manifest', JSON.stringify(forged), {});
    expect(await names(admin)).toEqual(['a@1']);
    expect((await admin.snapshot()).generation).toBe(1);
  });

  it('gives concurrent writes of different keys one manifest order: both land, none is refused', async () => {
    const [a, b] = [await process(), await process()];
    await a.put(sign(storedKey('x', 1)), 0);
    let raced = false;
    cluster.beforeAppend = (_topic, key) => {
      if (key !== 'y' || raced) return;
      raced = true;
      // Another replica's write of x lands (key record and manifest) just before b's batch.
      const generation = 2;
      const x2 = sign(storedKey('x', 2));
      const unsigned = { format: 'bridge-keystore-manifest/1' as const, generation, keys: { x: { revision: 2, mac: x2.mac! } } };
      cluster.append(topic, 'x', value(x2, ring.current.id), { 'keystore-generation': String(generation) });
      cluster.append(topic, '#manifest', JSON.stringify({ ...unsigned, mac: ring.current.sign(unsigned, 'manifest') }), {});
    };
    await b.put(sign(storedKey('y', 1)), 0);
    const snapshot = await a.snapshot();
    expect(snapshot.keys.map((k) => `${k.name}@${k.revision}`)).toEqual(['x@2', 'y@1']);
    expect(snapshot.problems).toEqual([]);
    expect(snapshot.generation).toBe(3);
  });
});
