/**
 * The Kafka keystore on a real broker: an admin and a worker instance share keys through a
 * compacted topic, stale writes and lost races fail with KeystoreConflictError, purges are
 * tombstones, foreign records are ignored, and a fresh instance rebuilds the same state.
 */
import { Partitioners } from 'kafkajs';
import { KafkaClientFactory, kafkaConnectionSchema } from '@app/kafka';
import { KeystoreConflictError, type StoredKey, KafkaKeystore } from '@app/keystore';
import { sharedKafka } from '../harness/shared-kafka';
import { uniqueId, waitFor } from './support/bridge.fixture';

const MASTER = 'e2e-master';

function storedKey(name: string, revision: number, wrapped = 'ZHVtbXktd3JhcHBlZA'): StoredKey {
  const at = new Date(Date.UTC(2024, 0, 1, 0, 0, revision)).toISOString();
  return {
    name,
    type: 'symmetric',
    exportable: false,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: at,
    revision,
    primaryVersion: 1,
    minDecryptionVersion: 1,
    versions: [{ version: 1, state: 'active', createdAt: '2024-01-01T00:00:00.000Z', origin: 'generated', wrapped }],
  };
}

describe('KafkaKeystore on a real Kafka', () => {
  const kafka = sharedKafka();
  const topic = `keystore-${uniqueId()}`;
  const connection = kafkaConnectionSchema.parse({ brokers: kafka.brokers, clientId: 'keystore-e2e' });
  const stores: KafkaKeystore[] = [];
  let admin: KafkaKeystore;
  let worker: KafkaKeystore;

  async function openStore(): Promise<KafkaKeystore> {
    const store = new KafkaKeystore(new KafkaClientFactory(), connection, { topic, masterKeyId: MASTER });
    stores.push(store);
    await store.open();
    return store;
  }

  /** Every record of the topic, as Kafka holds it. */
  async function rawRecords() {
    const client = kafka.kafka().admin();
    await client.connect();
    const high = Number((await client.fetchTopicOffsets(topic))[0].high);
    await client.disconnect();
    return kafka.consume(topic, { count: high, timeoutMs: 30_000 });
  }

  beforeAll(async () => {
    [admin, worker] = await Promise.all([openStore(), openStore()]); // both may create the topic
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    const client = kafka.kafka().admin();
    await client.connect();
    await client.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await client.disconnect();
  });

  it('creates the topic compacted, with one partition', async () => {
    const client = kafka.kafka().admin();
    await client.connect();
    try {
      const [meta] = (await client.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(meta.partitions).toHaveLength(1);
      const { resources } = await client.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic }] });
      const config = Object.fromEntries(resources[0].configEntries.map((e) => [e.configName, e.configValue]));
      expect(config['cleanup.policy']).toBe('compact');
      expect(config['min.compaction.lag.ms']).toBe('3600000');
    } finally {
      await client.disconnect();
    }
  });

  it('shows a key the admin created to the worker, and tells the worker within 2 s', async () => {
    let heard = 0;
    worker.onChange(() => heard++);
    const before = await worker.fingerprint();
    await admin.put(storedKey('sensor-key', 1), 0);
    expect(await admin.list()).toEqual([storedKey('sensor-key', 1)]); // read-your-own-write
    await waitFor(() => heard > 0, 2_000, 'the worker to hear about the change');
    expect(await worker.list()).toEqual([storedKey('sensor-key', 1)]);
    expect(await worker.fingerprint()).not.toBe(before);
  });

  it('refuses a stale revision and changes nothing', async () => {
    await admin.put(storedKey('sensor-key', 2), 1);
    await worker.list(); // catch up: fingerprint() itself is the mirror as is
    const fingerprint = await worker.fingerprint();
    await expect(worker.put(storedKey('sensor-key', 2, 'c3RhbGU'), 1)).rejects.toThrow(KeystoreConflictError);
    await expect(worker.put(storedKey('sensor-key', 1, 'c3RhbGU'), 0)).rejects.toThrow(/already exists/);
    expect(await worker.fingerprint()).toBe(fingerprint);
    expect(await admin.list()).toEqual([storedKey('sensor-key', 2)]);
    expect(await worker.list()).toEqual([storedKey('sensor-key', 2)]);
  });

  it('purges a key with a tombstone that both stop listing', async () => {
    await admin.put(storedKey('doomed', 1), 0);
    expect((await worker.list()).map((k) => k.name)).toContain('doomed');
    await expect(worker.remove('doomed', 2)).rejects.toThrow(KeystoreConflictError);
    await worker.remove('doomed', 1);
    expect((await admin.list()).map((k) => k.name)).toEqual(['sensor-key']);
    expect((await worker.list()).map((k) => k.name)).toEqual(['sensor-key']);

    const doomed = (await rawRecords()).filter((r) => r.key?.toString() === 'doomed');
    expect(doomed.at(-1)?.value).toBeNull();
  });

  it('ignores a record wrapped with another master key', async () => {
    const producer = kafka.kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key: 'foreign', value: JSON.stringify({ masterKeyId: 'other-master', key: storedKey('foreign', 1) }) }],
    });
    await producer.disconnect();
    expect((await worker.list()).map((k) => k.name)).toEqual(['sensor-key']);
    expect((await admin.list()).map((k) => k.name)).toEqual(['sensor-key']);
    await admin.put(storedKey('foreign', 1, 'b3Vycw'), 0); // for us the name is still free
    expect(await worker.list()).toEqual([storedKey('foreign', 1, 'b3Vycw'), storedKey('sensor-key', 2)]);
  });

  it('gives exactly one winner when two replicas race for the same revision, and all agree', async () => {
    const third = await openStore();
    let current = 2;
    for (let round = 0; round < 5; round++) {
      const next = current + 1;
      const contenders = [admin, third] as const;
      const results = await Promise.allSettled(contenders.map((s, i) => s.put(storedKey('sensor-key', next, `cm91bmQ${round}${i}`), current)));
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(KeystoreConflictError);
      const expected = storedKey('sensor-key', next, `cm91bmQ${round}${won[0]}`);
      for (const s of [admin, worker, third]) expect((await s.list()).find((k) => k.name === 'sensor-key')).toEqual(expected);
      current = next;
    }
    // Whatever compaction keeps, the last record for the key is the agreed state.
    const last = (await rawRecords()).filter((r) => r.key?.toString() === 'sensor-key').at(-1)!;
    expect(JSON.parse(last.value!.toString()).key).toEqual((await worker.list()).find((k) => k.name === 'sensor-key'));
  });

  it('reports an unreachable Kafka as a retriable KeystoreUnavailableError', async () => {
    const nowhere = kafkaConnectionSchema.parse({ brokers: ['127.0.0.1:1'], connectionTimeoutMs: 200, requestTimeoutMs: 1_000 });
    const store = new KafkaKeystore(new KafkaClientFactory(), nowhere, { topic, masterKeyId: MASTER, timeoutMs: 2_000 });
    await expect(store.open()).rejects.toMatchObject({ name: 'KeystoreUnavailableError', retriable: true });
    await store.close();
  });

  it('rebuilds the same state in a fresh instance from the topic', async () => {
    const fresh = await openStore();
    expect(await fresh.list()).toEqual(await admin.list());
    expect(await fresh.fingerprint()).toBe(await admin.fingerprint());
    await fresh.close();
    await fresh.close(); // twice is fine
  });
});
