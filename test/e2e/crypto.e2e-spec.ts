import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttClient } from 'mqtt';
import {
  createPublisherCrypto,
  formatKeyFile,
  generateKeyEntry,
  KeyEntry,
  PublisherCrypto,
  PublisherKey,
  revokeKeyVersion,
  rotateKeyEntry,
  SodiumProvider,
  type Sodium,
} from '@app/crypto';
import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, startWorker, uniqueId, waitFor, testMqttBroker, TestMqttBroker } from './support/bridge.fixture';
import { configYaml } from './support/config.builder';
import { holder } from './support/key.fixture';

describe('payload crypto through real Mosquitto and Kafka', () => {
  const kafka = sharedKafka();
  const dir = mkdtempSync(join(tmpdir(), 'bridge-crypto-e2e-'));
  const keysFile = join(dir, 'keys.json');
  let mosquitto: TestMqttBroker;
  let device: MqttClient;
  let sodium: Sodium;
  let pc: PublisherCrypto;
  let devices: KeyEntry;
  let sealedDevices: KeyEntry;
  let consumers: KeyEntry;

  function writeKeys(entries: KeyEntry[]): void {
    // Replace atomically, as an operator's tooling would; the worker polls the file.
    writeFileSync(`${keysFile}.tmp`, formatKeyFile(entries));
    renameSync(`${keysFile}.tmp`, keysFile);
  }

  beforeAll(async () => {
    sodium = await new SodiumProvider().ready();
    pc = await createPublisherCrypto();
    devices = generateKeyEntry(sodium, 'devices', 'symmetric');
    sealedDevices = generateKeyEntry(sodium, 'field-units', 'sealed');
    consumers = generateKeyEntry(sodium, 'consumers', 'symmetric');
    writeKeys([devices, sealedDevices, consumers]);
    mosquitto = await testMqttBroker();
    device = await mqttClient(mosquitto.url, { clientId: uniqueId('dev') });
  });

  afterAll(async () => {
    await device?.endAsync();
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function config(id: string, rules: string): string {
    return configYaml(
      {
        mqtt: { url: mosquitto.url, clientId: id },
        kafka: { brokers: kafka.brokers },
        keys: { file: keysFile, reloadIntervalMs: 200 },
        deadLetter: { topic: `${id}.dlq` },
      },
      { rules },
    );
  }

  const enc = (text: string) => new TextEncoder().encode(text);

  it('decrypts, re-encrypts for consumers, encrypts plaintext and passes ciphertext through untouched', async () => {
    const id = uniqueId();
    for (const t of ['plain', 'reenc', 'enc', 'pass', 'sealed']) await kafka.createTopic(`${id}.${t}`, 1);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: decrypt
    filters: ["${id}/dec/#"]
    transform: { mode: decrypt, sourceKey: devices }
    destinations: [{ type: kafka, topic: ${id}.plain }]
  - name: reencrypt
    filters: ["${id}/re/#"]
    transform: { mode: reencrypt, sourceKey: devices, destinationKey: consumers }
    destinations: [{ type: kafka, topic: ${id}.reenc }]
  - name: encrypt
    filters: ["${id}/enc/#"]
    transform: { mode: encrypt, destinationKey: consumers }
    destinations: [{ type: kafka, topic: ${id}.enc }]
  - name: passthrough
    filters: ["${id}/pass/#"]
    destinations: [{ type: kafka, topic: ${id}.pass }]
  - name: sealed
    filters: ["${id}/sealed/#"]
    transform: { mode: decrypt, sourceKey: field-units }
    destinations: [{ type: kafka, topic: ${id}.sealed }]
`,
      ),
    );
    try {
      const d = holder(devices);
      const decTopic = `${id}/dec/t1`;
      await device.publishAsync(decTopic, Buffer.from(pc.sealSymmetric(enc('21.5C'), d.secret, d.name, d.version, decTopic)), { qos: 1 });
      const reTopic = `${id}/re/t1`;
      await device.publishAsync(reTopic, Buffer.from(pc.sealSymmetric(enc('secret-reading'), d.secret, d.name, d.version, reTopic)), { qos: 1 });
      await device.publishAsync(`${id}/enc/t1`, 'plain-reading', { qos: 1 });
      const passEnvelope = Buffer.from(pc.sealSymmetric(enc('opaque'), d.secret, d.name, d.version, `${id}/pass/t1`));
      await device.publishAsync(`${id}/pass/t1`, passEnvelope, { qos: 1 });
      const s = holder(sealedDevices);
      const sealedTopic = `${id}/sealed/u1`;
      await device.publishAsync(sealedTopic, Buffer.from(pc.sealForPublicKey(enc('from-field'), s.publicKey!, s.name, s.version, sealedTopic)), { qos: 1 });

      const [plain] = await kafka.consume(`${id}.plain`, { count: 1 });
      expect(plain.value?.toString()).toBe('21.5C');

      const [reenc] = await kafka.consume(`${id}.reenc`, { count: 1 });
      const opened = pc.open(reenc.value!, [holder(consumers)], `${id}.reenc`, { requireTopicBinding: true });
      expect(Buffer.from(opened.plaintext).toString()).toBe('secret-reading');
      expect(reenc.value!.includes(Buffer.from('secret-reading'))).toBe(false);
      // The device key cannot open what was sealed for consumers.
      expect(() => pc.open(reenc.value!, [d], `${id}.reenc`)).toThrow(expect.objectContaining({ code: 'key-unknown' }));
      // Bound to the Kafka topic: replayed onto another topic it does not open.
      expect(() => pc.open(reenc.value!, [holder(consumers)], `${id}.elsewhere`)).toThrow(expect.objectContaining({ code: 'topic-mismatch' }));

      const [encrypted] = await kafka.consume(`${id}.enc`, { count: 1 });
      expect(Buffer.from(pc.open(encrypted.value!, [holder(consumers)], `${id}.enc`).plaintext).toString()).toBe('plain-reading');

      const [pass] = await kafka.consume(`${id}.pass`, { count: 1 });
      expect(pass.value!.equals(passEnvelope)).toBe(true);

      const [sealed] = await kafka.consume(`${id}.sealed`, { count: 1 });
      expect(sealed.value?.toString()).toBe('from-field');
    } finally {
      await bridge.dispose();
    }
  });

  it('dead-letters every kind of bad envelope with its reason and the untouched bytes', async () => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.plain`, 1);
    await kafka.createTopic(`${id}.dlq`, 1);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: decrypt
    filters: ["${id}/in/#"]
    transform: { mode: decrypt, sourceKey: devices }
    destinations: [{ type: kafka, topic: ${id}.plain }]
`,
      ),
    );
    try {
      const d = holder(devices);
      const topic = (n: string) => `${id}/in/${n}`;
      const good = (n: string) => Buffer.from(pc.sealSymmetric(enc(`payload-${n}`), d.secret, d.name, d.version, topic(n)));
      const tampered = good('tampered');
      tampered[tampered.length - 1] ^= 0x01;
      const truncated = good('truncated').subarray(0, 20);
      const unknownVersion = Buffer.from(pc.sealSymmetric(enc('x'), sodium.randombytes_buf(32), 'devices', 99, topic('unknown')));
      const otherKey = Buffer.from(pc.sealSymmetric(enc('x'), holder(consumers).secret, 'consumers', 1, topic('notallowed')));
      const wrongTopic = Buffer.from(pc.sealSymmetric(enc('x'), d.secret, d.name, d.version, `${id}/in/elsewhere`));
      const wrongAlgorithm = Buffer.from(pc.sealForPublicKey(enc('x'), holder(sealedDevices).publicKey!, 'devices', d.version, topic('alg')));
      const unbound = Buffer.from(pc.sealSymmetric(enc('x'), d.secret, d.name, d.version));
      const cases: Array<[string, Buffer, string]> = [
        ['tampered', tampered, 'decrypt-failed'],
        ['truncated', truncated, 'envelope-malformed'],
        ['notanenvelope', Buffer.from('{"plain":"json"}'), 'envelope-version'],
        ['unknown', unknownVersion, 'key-unknown'],
        ['notallowed', otherKey, 'key-not-allowed'],
        ['wrongtopic', wrongTopic, 'topic-mismatch'],
        ['alg', wrongAlgorithm, 'algorithm-mismatch'],
        ['unbound', unbound, 'topic-unbound'],
      ];
      for (const [name, bytes] of cases) await device.publishAsync(topic(name), bytes, { qos: 1 });
      const letters = await kafka.consume(`${id}.dlq`, { count: cases.length, settleMs: 500 });
      expect(letters).toHaveLength(cases.length);
      for (const [name, bytes, reason] of cases) {
        const letter = letters.find((l) => String(l.headers['mqtt.topic']) === topic(name));
        expect({ name, reason: String(letter?.headers['bridge.dlq.reason']) }).toEqual({ name, reason });
        expect(letter!.value!.equals(bytes)).toBe(true);
        expect(String(letter!.headers['bridge.dlq.destination'])).toBe('transform');
      }
      await waitFor(() => bridge.worker.inFlight === 0, 5_000, 'dead letters to be acknowledged');
      expect(bridge.worker.stats.snapshot().decrypt).toMatchObject({ received: cases.length, delivered: 0, deadLettered: cases.length });
      const plain = await kafka.consume(`${id}.plain`, { count: 1, timeoutMs: 1_000 }).catch(() => []);
      expect(plain).toHaveLength(0);
    } finally {
      await bridge.dispose();
    }
  });

  it('rotates without downtime: old versions open after rotation and stop opening once revoked', async () => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.plain`, 1);
    await kafka.createTopic(`${id}.dlq`, 1);
    let rotating = generateKeyEntry(sodium, `rot-${id}`, 'symmetric');
    writeKeys([devices, sealedDevices, consumers, rotating]);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: rot
    filters: ["${id}/rot/#"]
    transform: { mode: decrypt, sourceKey: rot-${id} }
    destinations: [{ type: kafka, topic: ${id}.plain }]
`,
      ),
    );
    try {
      const v1 = holder(rotating, 1);
      const seal = (text: string, key: PublisherKey) => {
        const topic = `${id}/rot/${text}`;
        return device.publishAsync(topic, Buffer.from(pc.sealSymmetric(enc(text), key.secret, key.name, key.version, topic)), { qos: 1 });
      };
      await seal('before-rotation', v1);
      await kafka.consume(`${id}.plain`, { count: 1 });

      rotating = rotateKeyEntry(sodium, rotating);
      writeKeys([devices, sealedDevices, consumers, rotating]);
      const v2 = holder(rotating, 2);
      // v2 is unknown until the worker has re-read the file; publish v1 meanwhile, then v2 once it opens.
      await seal('v1-after-rotation', v1);
      await kafka.consume(`${id}.plain`, { count: 2 });
      const deadline = Date.now() + 5_000;
      let delivered = 2;
      while (Date.now() < deadline) {
        await seal('v2', v2);
        const got = await kafka.consume(`${id}.plain`, { count: delivered + 1, timeoutMs: 1_000 }).catch(() => undefined);
        if (got) {
          delivered++;
          break;
        }
      }
      expect(delivered).toBe(3);

      rotating = revokeKeyVersion(rotating, 1);
      const reloads = async () =>
        (await bridge.worker.stats.registry.getSingleMetric('bridge_key_reloads_total')!.get()).values.find((v) => v.labels.result === 'ok')?.value ?? 0;
      const before = await reloads();
      writeKeys([devices, sealedDevices, consumers, rotating]);
      await waitFor(async () => (await reloads()) > before, 10_000, 'the worker to load the revocation');
      await seal('v1-after-revoke', v1);
      const counters = () => bridge.worker.stats.snapshot().rot;
      await waitFor(() => (counters()?.reasons['key-revoked'] ?? 0) === 1, 10_000, 'the revoked version to be refused');
      const letters = await kafka.consume(`${id}.dlq`, { count: counters().deadLettered });
      const revoked = letters.find((l) => String(l.headers['mqtt.topic']).endsWith('v1-after-revoke'));
      expect(String(revoked?.headers['bridge.dlq.reason'])).toBe('key-revoked');
    } finally {
      await bridge.dispose();
    }
  });

  it('refuses an envelope published again within the replay window, and gives each record its envelope id', async () => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.plain`, 1);
    await kafka.createTopic(`${id}.dlq`, 1);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: guarded
    filters: ["${id}/in/#"]
    transform: { mode: decrypt, sourceKey: devices, replayWindow: { seconds: 600 } }
    destinations: [{ type: kafka, topic: ${id}.plain }]
`,
      ),
    );
    try {
      const d = holder(devices);
      const topic = `${id}/in/valve`;
      const first = Buffer.from(pc.sealSymmetric(enc('open'), d.secret, d.name, d.version, topic));
      const second = Buffer.from(pc.sealSymmetric(enc('open'), d.secret, d.name, d.version, topic));
      // A captured envelope published again, then a fresh one with the same plaintext.
      for (const bytes of [first, first, second]) await device.publishAsync(topic, bytes, { qos: 1 });
      const records = await kafka.consume(`${id}.plain`, { count: 2, settleMs: 500 });
      expect(records.map((r) => r.value!.toString())).toEqual(['open', 'open']);
      const ids = records.map((r) => String(r.headers['bridge.envelope.id']));
      const nonce = (envelope: Buffer) => Buffer.from(pc.open(envelope, [d], topic).id).toString('hex');
      expect(ids).toEqual([nonce(first), nonce(second)]);
      const [letter] = await kafka.consume(`${id}.dlq`, { count: 1 });
      expect(String(letter.headers['bridge.dlq.reason'])).toBe('replay-detected');
      expect(letter.value!.equals(first)).toBe(true);
      await waitFor(() => bridge.worker.inFlight === 0, 5_000, 'every message to be acknowledged');
      expect(bridge.worker.stats.snapshot().guarded).toMatchObject({ received: 3, delivered: 2, deadLettered: 1 });
    } finally {
      await bridge.dispose();
    }
  });
});
