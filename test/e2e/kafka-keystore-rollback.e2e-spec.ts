/**
 * Issue 15 on a real Kafka: someone who can produce to the keystore topic (or delete and
 * recreate it) but lacks the master key replays records the admin service wrote earlier. An
 * old entry put back, an entry deleted and a whole older state replayed to a process that saw a
 * newer one are refused; the other keys keep working.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { SodiumProvider, type Sodium } from '@app/crypto';
import { KafkaClientFactory, kafkaConnectionSchema } from '@app/kafka';
import { GenerationWatermark, KafkaKeystore, ManifestAuthority, MasterKey, MasterKeyRing, signed, type StoredKey } from '@app/keystore';
import type { ConsumedMessage } from '../harness/kafka-client';
import { sharedKafka } from '../harness/shared-kafka';
import { uniqueId, waitFor } from './support/bridge.fixture';

function storedKey(name: string, revision: number, wrapped = 'd3JhcHBlZA'): StoredKey {
  return {
    name,
    type: 'symmetric',
    exportable: false,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: new Date(Date.UTC(2024, 0, 1, 0, 0, revision)).toISOString(),
    revision,
    primaryVersion: 1,
    minDecryptionVersion: 1,
    versions: [{ version: 1, state: 'active', createdAt: '2024-01-01T00:00:00.000Z', origin: 'generated', wrapped }],
  };
}

describe('KafkaKeystore on a real Kafka: no rollback, no silent deletion (issue 15)', () => {
  const kafka = sharedKafka();
  const connection = kafkaConnectionSchema.parse({ brokers: kafka.brokers, clientId: 'keystore-rollback-e2e' });
  const open: KafkaKeystore[] = [];
  const topics: string[] = [];
  let sodium: Sodium;
  let ring: MasterKeyRing;
  let dir: string;

  beforeAll(async () => {
    sodium = await new SodiumProvider().ready();
    ring = new MasterKeyRing(MasterKey.fromBytes(sodium, sodium.randombytes_buf(32)));
    dir = mkdtempSync(join(tmpdir(), 'keystore-rollback-'));
  });
  const closeAll = () => Promise.all(open.splice(0).map((s) => s.close()));
  afterAll(async () => {
    await closeAll();
    const client = kafka.kafka().admin();
    await client.connect();
    await client.deleteTopics({ topics }).catch(() => undefined);
    await client.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A process: its own mirror and, unless given one it shares, its own memory of generations. */
  async function process(topic: string, watermark = new GenerationWatermark()): Promise<KafkaKeystore> {
    const store = new KafkaKeystore(new KafkaClientFactory(), connection, {
      topic,
      masterKeyId: ring.current.id,
      manifests: new ManifestAuthority(ring, watermark),
      clientId: uniqueId('ks'),
    });
    open.push(store);
    await store.open();
    return store;
  }
  const newTopic = () => {
    const topic = uniqueId('keystore-rollback-');
    topics.push(topic);
    return topic;
  };
  const sign = (key: StoredKey) => signed(key, ring.current);
  const names = async (s: KafkaKeystore) => (await s.snapshot()).keys.map((k) => `${k.name}@${k.revision}`);

  async function records(topic: string): Promise<ConsumedMessage[]> {
    const client = kafka.kafka().admin();
    await client.connect();
    const high = Number((await client.fetchTopicOffsets(topic))[0].high);
    await client.disconnect();
    return kafka.consume(topic, { count: high, timeoutMs: 30_000 });
  }

  /** What the attacker does: produce records as they were (key, value, headers). */
  async function replay(topic: string, recs: ReadonlyArray<Pick<ConsumedMessage, 'key' | 'value' | 'headers'>>): Promise<void> {
    const producer = kafka.kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: recs.map((r) => ({ partition: 0, key: r.key, value: r.value, headers: r.headers })) });
    await producer.disconnect();
  }

  it('refuses an old record replayed after a revocation: the running process, a fresh one, and one reading the compacted topic; the other key keeps working', async () => {
    const topic = newTopic();
    const admin = await process(topic);
    await admin.put(sign(storedKey('a', 1)), 0);
    await admin.put(sign(storedKey('b', 1)), 0);
    const old = (await records(topic)).find((r) => r.key?.toString() === 'a')!;
    await admin.put(sign(storedKey('a', 2, 'cmV2b2tlZA')), 1); // e.g. the revocation

    // Without the writer's headers the record is not held for a manifest: it applies wherever it is first for its key.
    await replay(topic, [{ ...old, headers: {} }]);
    expect(await names(admin)).toEqual(['a@2', 'b@1']); // the running process never takes it
    expect(await names(await process(topic))).toEqual(['a@2', 'b@1']); // nor one reading the whole log

    // Compaction keeps the last record per key: the replayed a@1 instead of the genuine a@2.
    // Kafka compacts on its own schedule, so the topic is refilled with exactly what it keeps.
    await closeAll();
    await recreate(topic, compacted(await records(topic)));
    const fresh = await process(topic);
    const snapshot = await fresh.snapshot();
    expect(snapshot.keys.map((k) => `${k.name}@${k.revision}`)).toEqual(['b@1']);
    expect(snapshot.problems).toEqual([{ path: 'a', message: expect.stringMatching(/revision 1 is not the one the manifest lists \(revision 2/) }]);
  });

  it('notices an entry deleted with a tombstone produced outside the admin service', async () => {
    const topic = newTopic();
    const admin = await process(topic);
    await admin.put(sign(storedKey('a', 1)), 0);
    await admin.put(sign(storedKey('b', 1)), 0);
    const worker = await process(topic);
    expect(await names(worker)).toEqual(['a@1', 'b@1']);

    await replay(topic, [{ key: Buffer.from('b'), value: null, headers: {} }]);
    for (const store of [admin, worker, await process(topic)]) {
      await waitFor(async () => (await store.snapshot()).problems.length > 0, 10_000, 'the deletion to be noticed');
      const snapshot = await store.snapshot();
      expect(snapshot.keys.map((k) => k.name)).toEqual(['a']);
      expect(snapshot.problems).toEqual([{ path: 'b', message: expect.stringMatching(/listed in the keystore manifest at revision 1 .* but missing/) }]);
    }
  });

  it('refuses a whole older state (topic deleted and refilled with older records) in a process that saw a newer one, also after a restart', async () => {
    const topic = newTopic();
    const markFile = join(dir, `${topic}.generation.json`);
    const adminMark = new GenerationWatermark(markFile);
    const admin = await process(topic, adminMark);
    await admin.put(sign(storedKey('a', 1)), 0);
    await admin.put(sign(storedKey('b', 1)), 0);
    const older = await records(topic); // generation 2: complete, and authentic in every part
    await admin.put(sign(storedKey('a', 2, 'cmV2b2tlZA')), 1);
    expect((await admin.snapshot()).generation).toBe(3);
    const sharedMark = new GenerationWatermark();
    const worker = await process(topic, sharedMark);
    expect(await names(worker)).toEqual(['a@2', 'b@1']);
    await closeAll();
    await adminMark.flushed();

    await recreate(topic, older);

    // The admin restarted: its generation file remembers 3.
    const restarted = await process(topic, new GenerationWatermark(markFile));
    await expect(restarted.snapshot()).rejects.toMatchObject({
      code: 'keystore-rollback',
      message: expect.stringMatching(/generation 2, older than generation 3/),
    });
    await expect(restarted.put(sign(storedKey('a', 2)), 1)).rejects.toMatchObject({ code: 'keystore-rollback' });
    // A worker process that saw generation 3 (its key source's reloads share one watermark).
    const reloaded = await process(topic, sharedMark);
    await expect(reloaded.snapshot()).rejects.toMatchObject({ code: 'keystore-rollback' });
    // The documented limit: a process that never saw the newer state cannot tell.
    expect(await names(await process(topic))).toEqual(['a@1', 'b@1']);
  });

  /** What log compaction leaves: the last record of each key, in log order. */
  function compacted(recs: readonly ConsumedMessage[]): ConsumedMessage[] {
    const last = new Map(recs.map((r) => [r.key?.toString(), r]));
    return recs.filter((r) => last.get(r.key?.toString()) === r);
  }

  /** Deletes the topic and fills a new one of the same name with `recs`: what a topic admin without the master key can do. */
  async function recreate(topic: string, recs: readonly ConsumedMessage[]): Promise<void> {
    const client = kafka.kafka().admin();
    await client.connect();
    try {
      await client.deleteTopics({ topics: [topic], timeout: 30_000 });
      await waitFor(
        async () => {
          // Creating it again fails while the deletion is still in progress.
          try {
            return await client.createTopics({
              waitForLeaders: true,
              topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
            });
          } catch {
            return false;
          }
        },
        30_000,
        `topic ${topic} to be created again`,
      );
    } finally {
      await client.disconnect();
    }
    await replay(topic, recs);
  }
});
