import { MqttClient } from 'mqtt';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublisherCrypto, KeyEntry, PublisherCrypto } from '@app/crypto';
import { encodePayload } from '@app/transform';
import { sharedKafka } from '../harness/shared-kafka';
import { ConsumedMessage } from '../harness/kafka-client';
import { mqttClient, startWorker, testMqttBroker, TestMqttBroker, uniqueId, waitFor } from './support/bridge.fixture';
import { configYaml } from './support/config.builder';
import { holder, writeTestKeys } from './support/key.fixture';

/**
 * Processing inside the crypto boundary, through real Mosquitto and Kafka: devices seal JSON or
 * CBOR, the bridge opens, validates, filters, maps, enriches and routes by content, then writes
 * plaintext (decrypt) or seals again for consumers (reencrypt).
 */
describe.each(['decrypt', 'reencrypt'] as const)('process steps with transform %s', (mode) => {
  const kafka = sharedKafka();
  const dir = mkdtempSync(join(tmpdir(), 'bridge-transforms-e2e-'));
  const keysFile = join(dir, 'keys.json');
  let mosquitto: TestMqttBroker;
  let device: MqttClient;
  let pc: PublisherCrypto;
  let devices: KeyEntry;
  let consumers: KeyEntry;

  beforeAll(async () => {
    pc = await createPublisherCrypto();
    ({ devices, consumers } = (await writeTestKeys(dir, { devices: 'symmetric', consumers: 'symmetric' })).entries);
    writeFileSync(
      join(dir, 'reading.schema.json'),
      JSON.stringify({ type: 'object', required: ['kind', 't'], properties: { kind: { enum: ['env', 'power'] }, t: { type: 'number', maximum: 200 } } }),
    );
    mosquitto = await testMqttBroker();
    device = await mqttClient(mosquitto.url, { clientId: uniqueId('dev') });
  });

  afterAll(async () => {
    await device?.endAsync();
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const transform = mode === 'decrypt' ? '{ mode: decrypt, sourceKey: devices }' : '{ mode: reencrypt, sourceKey: devices, destinationKey: consumers }';

  function config(id: string): string {
    return configYaml(
      {
        mqtt: { url: mosquitto.url, clientId: id },
        kafka: { brokers: kafka.brokers },
        keys: { file: keysFile, reloadIntervalMs: 200 },
        deadLetter: { topic: `${id}.dlq` },
      },
      {
        rules: `
  - name: readings
    filters: ["${id}/{site}/{device}/reading"]
    transform: ${transform}
    process:
      steps:
        - validate: { schemaFile: ${join(dir, 'reading.schema.json')} }
        - filter: payload.t > -40.0
        - rename: { t: temperature }
        - enrich:
            tempF: payload.temperature * 9.0 / 5.0 + 32.0
            scaled: 'has(payload.factor) ? payload.temperature * payload.factor : payload.temperature'
            site: captures.site
            device: captures.device
            route: 'payload.kind + (qos == 1 ? "" : "-q" + string(qos))'
        - drop: [pin]
    destinations:
      - type: kafka
        topic: ${id}.{payload.route}
        key: "{payload.device}"
        headers: { site: "{payload.site}" }
  - name: cbor
    filters: ["${id}/cbor/{device}"]
    transform: ${transform}
    process:
      input: cbor
      output: json
      steps:
        - map: { id: captures.device, "reading.t": payload.t, "reading.unit": '"C"' }
    destinations: [{ type: kafka, topic: ${id}.cbor }]
`,
      },
    );
  }

  const seal = (topic: string, bytes: Uint8Array) => {
    const d = holder(devices);
    return Buffer.from(pc.sealSymmetric(bytes, d.secret, d.name, d.version, topic));
  };
  const sealJson = (topic: string, value: unknown) => seal(topic, Buffer.from(JSON.stringify(value)));
  /** The record's value as consumers read it: opened with their key when the bridge sealed it. */
  const valueOf = (record: ConsumedMessage): unknown => {
    if (mode === 'decrypt') return JSON.parse(record.value!.toString());
    expect(record.value!.includes(Buffer.from('"temperature"'))).toBe(false);
    return JSON.parse(Buffer.from(pc.open(record.value!, [holder(consumers)], record.topic, { requireTopicBinding: true }).plaintext).toString());
  };

  it('validates, filters, maps, enriches and routes by content; what fails is dead-lettered with its reason and the original bytes', async () => {
    const id = uniqueId();
    for (const t of ['env', 'power', 'cbor', 'dlq']) await kafka.createTopic(`${id}.${t}`, 1);
    const bridge = await startWorker(config(id));
    try {
      const topic = (device: string) => `${id}/berlin/${device}/reading`;
      const messages: Array<[name: string, topic: string, bytes: Buffer]> = [
        ['env', topic('th-1'), sealJson(topic('th-1'), { kind: 'env', t: 20, pin: '0000' })],
        ['power', topic('pm-2'), sealJson(topic('pm-2'), { kind: 'power', t: 35.5, factor: 2 })],
        ['cold', topic('th-3'), sealJson(topic('th-3'), { kind: 'env', t: -99 })],
        ['hot', topic('th-4'), sealJson(topic('th-4'), { kind: 'env', t: 512.25 })],
        ['notjson', topic('th-5'), seal(topic('th-5'), Buffer.from('t=21'))],
        ['badfactor', topic('th-6'), sealJson(topic('th-6'), { kind: 'env', t: 1, factor: 'two' })],
        ['cbor', `${id}/cbor/th-7`, seal(`${id}/cbor/th-7`, encodePayload('cbor', { t: 18.25 }))],
      ];
      for (const [, to, bytes] of messages) await device.publishAsync(to, bytes, { qos: 1 });
      const sent = Object.fromEntries(messages.map(([name, , bytes]) => [name, bytes]));

      const [env] = await kafka.consume(`${id}.env`, { count: 1 });
      expect(String(env.key)).toBe('th-1');
      expect(String(env.headers.site)).toBe('berlin');
      const envValue = valueOf(env) as Record<string, unknown>;
      expect(envValue).toEqual({ kind: 'env', temperature: 20, tempF: 68, scaled: 20, site: 'berlin', device: 'th-1', route: 'env' });

      const [power] = await kafka.consume(`${id}.power`, { count: 1 });
      expect(valueOf(power)).toEqual({ kind: 'power', temperature: 35.5, tempF: 95.9, scaled: 71, factor: 2, site: 'berlin', device: 'pm-2', route: 'power' });

      const [cbor] = await kafka.consume(`${id}.cbor`, { count: 1 });
      const cborValue =
        mode === 'decrypt'
          ? JSON.parse(cbor.value!.toString())
          : JSON.parse(Buffer.from(pc.open(cbor.value!, [holder(consumers)], cbor.topic).plaintext).toString());
      expect(cborValue).toEqual({ id: 'th-7', reading: { t: 18.25, unit: 'C' } });

      const letters = await kafka.consume(`${id}.dlq`, { count: 3, settleMs: 500 });
      const letter = (device: string) => letters.find((l) => String(l.headers['mqtt.topic']) === topic(device));
      const expected: Array<[string, string, string, string]> = [
        ['th-4', 'hot', 'schema-invalid', 'payload /t fails "maximum" at #/properties/t/maximum'],
        ['th-5', 'notjson', 'decode-failed', 'payload is not JSON'],
        ['th-6', 'badfactor', 'transform-failed', 'steps[3].enrich.scaled: no such overload: dyn<double> * dyn<string> at column 23 of the expression'],
      ];
      for (const [deviceId, name, reason, message] of expected) {
        const l = letter(deviceId);
        expect({ deviceId, reason: String(l?.headers['bridge.dlq.reason']), message: String(l?.headers['bridge.dlq.message']) }).toEqual({
          deviceId,
          reason,
          message,
        });
        expect(l!.value!.equals(sent[name])).toBe(true);
        expect(String(l!.headers['bridge.dlq.destination'])).toBe('transform');
      }
      expect(letters).toHaveLength(3);
      await waitFor(() => bridge.worker.inFlight === 0, 5_000, 'every message to be acknowledged');
      expect(bridge.worker.stats.snapshot().readings).toMatchObject({ received: 6, delivered: 2, filtered: 1, deadLettered: 3 });
      const metrics = await bridge.worker.stats.registry.getSingleMetricAsString('bridge_messages_filtered_total');
      expect(metrics).toContain('bridge_messages_filtered_total{rule="readings"} 1');
    } finally {
      await bridge.dispose();
    }
  });

  it('dead-letters a message whose routing field is missing with reason template, without writing it anywhere', async () => {
    const id = uniqueId();
    for (const t of ['env', 'dlq']) await kafka.createTopic(`${id}.${t}`, 1);
    const bridge = await startWorker(config(id).replace("route: 'payload.kind", "other: 'payload.kind"));
    try {
      const topic = `${id}/berlin/th-9/reading`;
      const bytes = sealJson(topic, { kind: 'env', t: 1 });
      await device.publishAsync(topic, bytes, { qos: 1 });
      const [letter] = await kafka.consume(`${id}.dlq`, { count: 1 });
      expect(String(letter.headers['bridge.dlq.reason'])).toBe('template');
      expect(String(letter.headers['bridge.dlq.message'])).toContain('needs {payload.route} but the document has no string, number or boolean there');
      expect(letter.value!.equals(bytes)).toBe(true);
    } finally {
      await bridge.dispose();
    }
  });
});
