import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttClient } from 'mqtt';
import { createPublisherCrypto, formatKeyFile, generateKeyEntry, KeyEntry, PublisherCrypto, rotateKeyEntry, SodiumProvider } from '@app/crypto';
import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, recordCount, startWorker, startWorkerless, testMqttBroker, TestMqttBroker, uniqueId, waitFor } from './support/bridge.fixture';
import { configYaml } from './support/config.builder';

describe('dead letters and retries through real brokers', () => {
  const kafka = sharedKafka();
  const dir = mkdtempSync(join(tmpdir(), 'bridge-dlq-e2e-'));
  const keysFile = join(dir, 'keys.json');
  let mosquitto: TestMqttBroker;
  let publisher: MqttClient;
  let pc: PublisherCrypto;
  let devices: KeyEntry;

  beforeAll(async () => {
    const sodium = await new SodiumProvider().ready();
    pc = await createPublisherCrypto();
    devices = generateKeyEntry(sodium, 'devices', 'symmetric');
    writeFileSync(keysFile, formatKeyFile([devices]));
    mosquitto = await testMqttBroker();
    publisher = await mqttClient(mosquitto.url, { clientId: uniqueId('pub') });
  });

  afterAll(async () => {
    if (!kafka.running) await kafka.restart();
    await publisher?.endAsync();
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function config(id: string, rules: string, retry: Record<string, number> = { initialMs: 100, maxMs: 1000 }, client = 'kafkajs'): string {
    return configYaml(
      {
        mqtt: { url: mosquitto.url, clientId: id, session: { persistent: true } },
        kafka: { brokers: kafka.brokers, producer: { client, retry } },
        keys: { file: keysFile },
        deadLetter: { topic: `${id}.dlq` },
      },
      { rules },
    );
  }

  /** Collects the dead letters of MQTT topic dead/<id>, with their user properties. */
  async function mqttDeadLetters(id: string) {
    const watcher = await mqttClient(mosquitto.url, { clientId: uniqueId('dlqwatch') });
    const letters: Array<{ payload: Buffer; props: Record<string, unknown> }> = [];
    watcher.on('message', (_t, payload, packet) => letters.push({ payload, props: (packet.properties?.userProperties ?? {}) as Record<string, unknown> }));
    await watcher.subscribeAsync(`dead/${id}`, { qos: 1 });
    return { watcher, letters };
  }

  const sealed = (text: string, topic: string) => {
    const v = devices.versions[0];
    return Buffer.from(pc.sealSymmetric(new TextEncoder().encode(text), v.secret, devices.name, v.version, topic));
  };

  it.each(['kafkajs', 'librdkafka'])('loses nothing of a QoS 1 stream while Kafka is down for 30 s, poison included (%s)', async (client) => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.out`, 1);
    await kafka.createTopic(`${id}.dlq`, 1);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: stream
    filters: ["${id}/s/{n}"]
    transform: { mode: decrypt, sourceKey: devices }
    destinations: [{ type: kafka, topic: ${id}.out, key: "stream" }]
`,
        undefined,
        client,
      ),
    );
    try {
      let seq = 0;
      const publishBurst = async (count: number) => {
        for (let i = 0; i < count; i++, seq++) {
          const topic = `${id}/s/${seq % 5}`;
          await publisher.publishAsync(topic, sealed(String(seq), topic), { qos: 1 });
        }
      };
      await publishBurst(200);
      await kafka.stop();
      const outageStarted = Date.now();
      // Keep publishing through the outage, with one poison message that can only be dead-lettered
      // (and the dead-letter topic is down too).
      while (Date.now() - outageStarted < 30_000) {
        await publishBurst(20);
        await new Promise((r) => setTimeout(r, 500));
      }
      await publisher.publishAsync(`${id}/s/poison`, Buffer.from('not an envelope'), { qos: 1 });
      const inFlightDuringOutage = bridge.worker.inFlight;
      await kafka.restart();
      await publishBurst(200);
      const sent = seq;

      const records = await kafka.consume(`${id}.out`, { count: sent, timeoutMs: 90_000 });
      const seen = new Set(records.map((r) => Number(r.value!.toString())));
      const lost = Array.from({ length: sent }, (_, i) => i).filter((n) => !seen.has(n));
      expect({ sent, lost }).toEqual({ sent, lost: [] });
      // One key, one partition: the order of first appearance is the publish order.
      const firstSeen = records.map((r) => Number(r.value!.toString())).filter((n, i, all) => all.indexOf(n) === i);
      expect(firstSeen).toEqual(Array.from({ length: sent }, (_, i) => i));

      const [poison] = await kafka.consume(`${id}.dlq`, { count: 1 });
      expect(String(poison.headers['bridge.dlq.reason'])).toBe('envelope-version');
      expect(poison.value!.toString()).toBe('not an envelope');

      expect(inFlightDuringOutage).toBeGreaterThan(0);
      await waitFor(() => bridge.worker.inFlight === 0, 20_000, 'every message to be acknowledged');
      expect(bridge.worker.stats.snapshot().stream.retried).toBeGreaterThan(0);
    } finally {
      if (!kafka.running) await kafka.restart();
      await bridge.dispose();
    }
  });

  // Attempts are counted by the bridge's own retry loop, which is kafkajs's; librdkafka's below.
  it('dead-letters a message whose retries ran out, with class, attempts and failure times (kafkajs)', async () => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.out`, 1);
    await kafka.createTopic(`${id}.dlq`, 1);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: bounded
    filters: ["${id}/b"]
    destinations: [{ type: kafka, topic: ${id}.out }]
`,
        { initialMs: 100, maxMs: 200, maxAttempts: 3 },
        'kafkajs',
      ),
    );
    try {
      await kafka.stop();
      await publisher.publishAsync(`${id}/b`, 'gave-up', { qos: 1 });
      await waitFor(() => (bridge.worker.stats.snapshot().bounded?.retried ?? 0) >= 2, 15_000, 'the retries to run out');
      // The dead-letter write waits for Kafka too: the message is still unacknowledged.
      expect(bridge.worker.inFlight).toBe(1);
      await kafka.restart();
      const [letter] = await kafka.consume(`${id}.dlq`, { count: 1, timeoutMs: 60_000 });
      expect(letter.value!.toString()).toBe('gave-up');
      expect(String(letter.headers['bridge.dlq.reason'])).toBe('destination-unavailable');
      expect(String(letter.headers['bridge.dlq.class'])).toBe('transient');
      expect(String(letter.headers['bridge.dlq.attempts'])).toBe('3');
      expect(String(letter.headers['bridge.dlq.destination'])).toBe('bounded/kafka[0]');
      const first = Date.parse(String(letter.headers['bridge.dlq.first-failure-at']));
      const last = Date.parse(String(letter.headers['bridge.dlq.last-failure-at']));
      expect(last).toBeGreaterThan(first);
      await waitFor(() => bridge.worker.inFlight === 0, 10_000, 'the acknowledgement');
      expect(await recordCount(kafka.brokers, `${id}.out`)).toBe(0);
    } finally {
      if (!kafka.running) await kafka.restart();
      await bridge.dispose();
    }
  });

  it('librdkafka: a record that waited maxElapsedMs for a stopped Kafka is dead-lettered, and not written once Kafka is back', async () => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.out`, 1);
    const { watcher, letters } = await mqttDeadLetters(id);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: elapsed
    filters: ["${id}/e"]
    destinations: [{ type: kafka, topic: ${id}.out }]
    deadLetter: { type: mqtt, topic: dead/${id}, qos: 1 }
`,
        { initialMs: 100, maxMs: 200, maxElapsedMs: 3_000 },
        'librdkafka',
      ),
    );
    try {
      // Connected first: the record goes to librdkafka, which holds it while Kafka is away.
      await publisher.publishAsync(`${id}/e`, 'warm-up', { qos: 1 });
      await waitFor(() => bridge.worker.inFlight === 0, 10_000, 'the warm-up record');
      await kafka.stop();
      const sent = Date.now();
      await publisher.publishAsync(`${id}/e`, 'timed-out', { qos: 1 });
      await waitFor(() => letters.length === 1, 15_000, 'the dead letter');
      expect(Date.now() - sent).toBeGreaterThanOrEqual(2_500);
      expect(letters[0].payload.toString()).toBe('timed-out');
      expect(letters[0].props).toMatchObject({
        'bridge.dlq.reason': 'destination-unavailable',
        'bridge.dlq.class': 'transient',
        'bridge.dlq.destination': 'elapsed/kafka[0]',
      });
      expect(bridge.worker.stats.snapshot().elapsed.retried).toBeGreaterThan(0);
      await waitFor(() => bridge.worker.inFlight === 0, 5_000, 'the acknowledgement');
      await kafka.restart();
      await publisher.publishAsync(`${id}/e`, 'after', { qos: 1 });
      const records = await kafka.consume(`${id}.out`, { count: 2, timeoutMs: 60_000, settleMs: 2_000 });
      expect(records.map((r) => r.value!.toString())).toEqual(['warm-up', 'after']);
    } finally {
      if (!kafka.running) await kafka.restart();
      await bridge.dispose();
      await watcher.endAsync();
    }
  });

  it('dead-letters to an MQTT topic with the reason in user properties and the original bytes', async () => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.out`, 1);
    const { watcher, letters } = await mqttDeadLetters(id);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: viaMqtt
    filters: ["${id}/m/#"]
    transform: { mode: decrypt, sourceKey: devices }
    destinations: [{ type: kafka, topic: ${id}.out }]
    deadLetter: { type: mqtt, topic: dead/${id}, qos: 1 }
`,
      ),
    );
    try {
      await publisher.publishAsync(`${id}/m/1`, Buffer.from('not sealed'), { qos: 1, properties: { userProperties: { site: 'lyon' } } });
      await waitFor(() => letters.length === 1, 10_000, 'the MQTT dead letter');
      expect(letters[0].payload.toString()).toBe('not sealed');
      expect(letters[0].props).toMatchObject({
        'bridge.dlq.reason': 'envelope-version',
        'bridge.dlq.class': 'permanent',
        'bridge.dlq.destination': 'transform',
        'mqtt.topic': `${id}/m/1`,
        'mqtt.user.site': 'lyon',
        'bridge.rule': 'viaMqtt',
      });
      await waitFor(() => bridge.worker.inFlight === 0, 5_000, 'the acknowledgement');
    } finally {
      await bridge.dispose();
      await watcher.endAsync();
    }
  });

  it('a poison message on one topic does not hold up another topic', async () => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.good`, 1);
    await kafka.createTopic(`${id}.dlq`, 1);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: mixed
    filters: ["${id}/{stream}"]
    transform: { mode: decrypt, sourceKey: devices }
    destinations: [{ type: kafka, topic: ${id}.good, key: "{stream}" }]
`,
      ),
    );
    try {
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < 300; i++) {
        sends.push(publisher.publishAsync(`${id}/good`, sealed(String(i), `${id}/good`), { qos: 1 }));
        if (i % 3 === 0) sends.push(publisher.publishAsync(`${id}/bad`, Buffer.from(`poison-${i}`), { qos: 1 }));
      }
      await Promise.all(sends);
      const good = await kafka.consume(`${id}.good`, { count: 300, timeoutMs: 30_000 });
      expect(good.map((r) => Number(r.value!.toString()))).toEqual(Array.from({ length: 300 }, (_, i) => i));
      const letters = await kafka.consume(`${id}.dlq`, { count: 100 });
      expect(new Set(letters.map((l) => String(l.headers['mqtt.topic'])))).toEqual(new Set([`${id}/bad`]));
      expect(bridge.worker.stats.snapshot().mixed).toMatchObject({ delivered: 300, deadLettered: 100 });
    } finally {
      await bridge.dispose();
    }
  });
});

describe('replaying dead letters', () => {
  const kafka = sharedKafka();
  const dir = mkdtempSync(join(tmpdir(), 'bridge-replay-e2e-'));
  const keysFile = join(dir, 'keys.json');
  let mosquitto: TestMqttBroker;
  let publisher: MqttClient;

  beforeAll(async () => {
    mosquitto = await testMqttBroker();
    publisher = await mqttClient(mosquitto.url, { clientId: uniqueId('pub') });
  });

  afterAll(async () => {
    await publisher?.endAsync();
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows what would happen in a dry run, then delivers each fixed dead letter exactly once', async () => {
    const sodium = await new SodiumProvider().ready();
    const pc = await createPublisherCrypto();
    const v1 = generateKeyEntry(sodium, 'devices', 'symmetric');
    const v2 = rotateKeyEntry(sodium, v1);
    writeFileSync(keysFile, formatKeyFile([v1]));
    const id = uniqueId();
    for (const t of ['out', 'dlq', 'dlq.replayed']) await kafka.createTopic(`${id}.${t}`, 1);
    const yaml = `
mqtt: { url: ${mosquitto.url}, clientId: ${id} }
kafka: { brokers: [${kafka.brokers.join(',')}] }
keys: { file: ${keysFile}, reloadIntervalMs: 200 }
rules:
  - name: r
    filters: ["${id}/{device}"]
    transform: { mode: decrypt, sourceKey: devices }
    destinations: [{ type: kafka, topic: ${id}.out, key: "{device}" }]
    deadLetter: { topic: ${id}.dlq }
`;
    const bridge = await startWorker(yaml);
    try {
      // The device already has version 2; the bridge's key file does not yet.
      const key = v2.versions.find((v) => v.version === 2)!;
      await publisher.publishAsync(`${id}/d1`, Buffer.from(pc.sealSymmetric(new TextEncoder().encode('late'), key.secret, 'devices', 2, `${id}/d1`)), {
        qos: 1,
      });
      const [letter] = await kafka.consume(`${id}.dlq`, { count: 1 });
      expect(String(letter.headers['bridge.dlq.reason'])).toBe('key-unknown');
    } finally {
      await bridge.dispose();
    }

    const replay = async (dryRun: boolean) => {
      const lines: string[] = [];
      const worker = (await startWorkerless(yaml)).worker;
      const report = await worker.replay('r', { dryRun }, (l) => lines.push(`${l.result}: ${l.detail}`));
      return { report, lines };
    };

    const stillBroken = await replay(true);
    expect(stillBroken.lines).toEqual(['would fail: key-unknown']);

    writeFileSync(keysFile, formatKeyFile([v2]));
    const fixed = await replay(true);
    expect(fixed.lines).toEqual([`would deliver: kafka topic ${id}.out key d1`]);
    expect(await recordCount(kafka.brokers, `${id}.out`)).toBe(0);

    const real = await replay(false);
    expect(real.lines).toEqual([`delivered: r/kafka[0]`]);
    expect(real.report).toMatchObject({ replayed: 1, delivered: 1, failed: 0 });
    const [delivered] = await kafka.consume(`${id}.out`, { count: 1, settleMs: 500 });
    expect(delivered.value!.toString()).toBe('late');
    const [log] = await kafka.consume(`${id}.dlq.replayed`, { count: 1 });
    expect(JSON.parse(log.value!.toString())).toMatchObject({ rule: 'r', topic: `${id}/d1`, result: 'delivered', offset: '0' });

    const again = await replay(false);
    expect(again.report.replayed).toBe(0);
    expect(await recordCount(kafka.brokers, `${id}.out`)).toBe(1);
  });
});
